import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compose } from '../../../shared/composition/compose';
import { bindHttp } from '../../../shared/composition/functionBindings';
import { ConfigurationError } from '../../../shared/domain/errors';
import type { HttpInput } from '../../../shared/entrypoints/http/httpInput';
import { parseSettings } from '../../../shared/settings';

/** Settings that name a storage account nobody needs to reach: these tests fail before any client is used. */
const settings = (env: Record<string, string> = {}) => parseSettings({ AzureWebJobsStorage: 'UseDevelopmentStorage=true', ...env });

const aGet: HttpInput = {
  method: 'GET',
  url: 'http://localhost:7071/api/topology',
  headers: { get: () => null },
  params: {},
  query: new URLSearchParams(),
  text: async () => '',
};

describe('the composition root', () => {
  it('refuses an AUDIT_SIGNING_KEY that is not a PEM private key, or not Ed25519, with a ConfigurationError naming the setting', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const cases: Array<[string, RegExp]> = [
      ['not a key', /^AUDIT_SIGNING_KEY: is not a PKCS#8 PEM private key/],
      [rsa, /^AUDIT_SIGNING_KEY: must be an Ed25519 key, not rsa$/],
    ];

    for (const [key, message] of cases) {
      await assert.rejects(compose(settings({ AUDIT_SIGNING_KEY: key })), (error: unknown) => {
        assert.ok(error instanceof ConfigurationError);
        assert.equal(error.code, 'invalid_configuration');
        assert.match(error.message, message);
        return true;
      });
    }
  });
});

describe('bindHttp', () => {
  it('answers 500 invalid_configuration, without the settings, when the process settings do not compose', async () => {
    // This file runs in a process of its own (node --test): no other test sees the environment it sets.
    delete process.env.AzureWebJobsStorage;
    process.env.REDRIVE_AFTER_SECONDS = '0';
    const handler = bindHttp(() => assert.fail('the entrypoint must not run without its dependencies'));

    const output = await handler(aGet);

    assert.equal(output.status, 500);
    assert.equal(output.headers?.['content-type'], 'application/problem+json; charset=utf-8');
    assert.deepEqual(JSON.parse(output.body as string), {
      type: '/problems/invalid-configuration',
      title: 'Internal Server Error',
      status: 500,
      detail: 'the service is misconfigured; the reason has been logged',
      code: 'invalid_configuration',
    });
  });
});
