import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { identityCredentialFor, oneCredentialPerIdentity } from '../../../shared/composition/clients';
import { authenticatorFor, checkpointSigningFor, compose } from '../../../shared/composition/compose';
import { bindHttp } from '../../../shared/composition/functionBindings';
import { ConfigurationError } from '../../../shared/domain/errors';
import { jwkOf } from '../../../shared/domain/jwk';
import { jwkThumbprint } from '../../../shared/domain/signingKeys';
import type { HttpInput } from '../../../shared/entrypoints/http/httpInput';
import { parseSettings, type ConnectionIdentity } from '../../../shared/settings';
import { recordingLog } from '../../support/storeHarness';

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
  it('refuses an AUDIT_SIGNING_KEY that is not a PEM private key, or not Ed25519 or EC P-256, with a ConfigurationError naming the setting', async () => {
    const pem = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }).toString();
    const rsa = pem(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey);
    const p384 = pem(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey);
    const cases: Array<[string, RegExp]> = [
      ['not a key', /^AUDIT_SIGNING_KEY: is not a PKCS#8 PEM private key/],
      [rsa, /^AUDIT_SIGNING_KEY: must be an Ed25519 or EC P-256 key, not rsa$/],
      [p384, /^AUDIT_SIGNING_KEY: must be an Ed25519 or EC P-256 key, not ec secp384r1$/],
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

  it('signs with an Ed25519 or EC P-256 AUDIT_SIGNING_KEY, named by its JWK thumbprint, and verifies with it', async () => {
    for (const [key, algorithm] of [
      [generateKeyPairSync('ed25519').privateKey, 'EdDSA'],
      [generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'ES256'],
    ] as const) {
      const signing = checkpointSigningFor(settings({ AUDIT_SIGNING_KEY: key.export({ type: 'pkcs8', format: 'pem' }).toString() }));
      const signingKey = await signing.checkpointSigner?.key();
      assert.deepEqual(signingKey, { keyId: jwkThumbprint(key), algorithm });
      assert.equal((await signing.checkpointKeys?.publicKey(jwkThumbprint(key)))?.algorithm, algorithm);
      assert.equal(await signing.checkpointKeys?.publicKey('another-key-id'), undefined);
    }
    assert.deepEqual(checkpointSigningFor(settings()), {});
  });

  it('verifies with the signing key and then the AUDIT_VERIFY_KEYS keys, and refuses a verify-only key under the signing key id', async () => {
    const retired = generateKeyPairSync('ed25519');
    const current = generateKeyPairSync('ed25519');
    const pem = (key: KeyObject, type: 'pkcs8' | 'spki') => key.export({ type, format: 'pem' }).toString();
    const signing = checkpointSigningFor(
      settings({ AUDIT_SIGNING_KEY: pem(current.privateKey, 'pkcs8'), AUDIT_VERIFY_KEYS: pem(retired.publicKey, 'spki') }),
    );
    assert.ok(signing.checkpointSigner && signing.checkpointKeys);
    assert.deepEqual(await signing.checkpointSigner.key(), { keyId: jwkThumbprint(current.publicKey), algorithm: 'EdDSA' });
    for (const key of [current.publicKey, retired.publicKey])
      assert.ok((await signing.checkpointKeys.publicKey(jwkThumbprint(key)))?.publicKey.equals(key));
    const ids = [jwkThumbprint(current.publicKey), jwkThumbprint(retired.publicKey)];
    assert.deepEqual(
      signing.checkpointKeys.listedKeys().map((key) => key.keyId),
      ids,
    );
    assert.deepEqual(
      signing.checkpointKeys.legacyKeys().map((key) => key.keyId),
      ids,
      'both Ed25519 keys may have signed v1 checkpoints',
    );

    // Verify-only keys alone (a verifier with no signing key): the ring holds them, nothing signs.
    const verifyOnly = checkpointSigningFor(settings({ AUDIT_VERIFY_KEYS: pem(retired.publicKey, 'spki') }));
    assert.equal(verifyOnly.checkpointSigner, undefined);
    assert.deepEqual(
      verifyOnly.checkpointKeys?.listedKeys().map((key) => key.keyId),
      [jwkThumbprint(retired.publicKey)],
    );

    const impostor = JSON.stringify({
      keys: [jwkOf({ keyId: jwkThumbprint(current.publicKey), algorithm: 'EdDSA', publicKey: retired.publicKey })],
    });
    assert.throws(
      () => checkpointSigningFor(settings({ AUDIT_SIGNING_KEY: pem(current.privateKey, 'pkcs8'), AUDIT_VERIFY_KEYS: impostor })),
      (error: unknown) =>
        error instanceof ConfigurationError &&
        error.message === `AUDIT_VERIFY_KEYS: key ${jwkThumbprint(current.publicKey)} is the signing key's id with another key`,
    );
  });

  it('builds Key Vault signing from AUDIT_SIGNING_KEY_VAULT_KEY_ID with the credential it is given, calling nothing at start', () => {
    const asked: ConnectionIdentity[] = [];
    const credentialFor = (identity: ConnectionIdentity) => {
      asked.push(identity);
      return { getToken: () => Promise.reject(new Error('not called at start')) };
    };
    const keyId = 'https://contoso-audit.vault.azure.net/keys/audit-signing';
    const clientId = '8c7f1b9e-2d4a-4c51-9e0f-3a6b5d7c9e21';

    const signing = checkpointSigningFor(settings({ AUDIT_SIGNING_KEY_VAULT_KEY_ID: keyId, AZURE_CLIENT_ID: clientId }), credentialFor);
    assert.ok(signing.checkpointSigner && signing.checkpointKeys);
    assert.deepEqual(signing.checkpointKeys.legacyKeys(), []);
    // Storage by connection string: Key Vault is reached as AZURE_CLIENT_ID's identity, through DefaultAzureCredential.
    assert.deepEqual(asked, [{ kind: 'identity', credential: 'default', clientId }]);

    // Storage by identity: Key Vault is reached as that same identity (one credential, one token cache).
    asked.length = 0;
    const identityStorage = { AzureWebJobsStorage__accountName: 'pchatstore01', AzureWebJobsStorage__credential: 'managedidentity' };
    checkpointSigningFor(
      parseSettings({ ...identityStorage, AUDIT_SIGNING_KEY_VAULT_KEY_ID: keyId, AZURE_CLIENT_ID: clientId }),
      credentialFor,
    );
    assert.deepEqual(
      asked.map(({ credential, clientId: id }) => [credential, id]),
      [['managedidentity', clientId]],
    );
  });
});

describe('the credential of an identity-based connection', () => {
  const connection = (credential: 'managedidentity' | 'default', clientId?: string) => ({
    kind: 'identity' as const,
    credential,
    ...(clientId ? { clientId } : {}),
    fullyQualifiedNamespace: 'bus.servicebus.windows.net',
  });

  it('is ManagedIdentityCredential for __credential=managedidentity, else DefaultAzureCredential', () => {
    assert.ok(
      identityCredentialFor(connection('managedidentity', '8c7f1b9e-2d4a-4c51-9e0f-3a6b5d7c9e21')) instanceof ManagedIdentityCredential,
    );
    assert.ok(identityCredentialFor(connection('managedidentity')) instanceof ManagedIdentityCredential);
    assert.ok(identityCredentialFor(connection('default')) instanceof DefaultAzureCredential);
  });

  it('is made once per identity, so the clients of one identity share its token cache', () => {
    const made: string[] = [];
    const credentialFor = oneCredentialPerIdentity((c) => {
      made.push(`${c.credential}/${c.clientId ?? ''}`);
      return { getToken: async () => null };
    });

    const first = credentialFor(connection('managedidentity', 'a'));
    assert.equal(credentialFor(connection('managedidentity', 'a')), first);
    credentialFor(connection('managedidentity', 'b'));
    credentialFor(connection('default', 'a'));

    assert.deepEqual(made, ['managedidentity/a', 'managedidentity/b', 'default/a']);
  });
});

describe('authenticatorFor', () => {
  it('builds the authenticator AUTH_MODE names, warning at start when it is off or keys has no key', () => {
    const built = (env: Record<string, string>) => {
      const log = recordingLog();
      return { mode: authenticatorFor(settings(env).auth, log).mode, warnings: log.warnings };
    };
    const oneKey = JSON.stringify([{ principal: 'alice', roles: ['reader'], key: 'k'.repeat(32) }]);

    assert.deepEqual(
      [built({ AUTH_MODE: 'keys', LOCAL_API_KEYS: oneKey }), built({ AUTH_MODE: 'easyauth' }), built({ AUTH_MODE: 'off' }), built({})],
      [
        { mode: 'keys', warnings: [] },
        { mode: 'easyauth', warnings: [] },
        { mode: 'off', warnings: ['AUTH_MODE is off: every HTTP caller is "anonymous" with every role; for development only'] },
        { mode: 'keys', warnings: ['AUTH_MODE is keys and LOCAL_API_KEYS is unset: every API call will answer 401'] },
      ],
    );
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
      type: '/api/problems/invalid_configuration',
      title: 'Internal Server Error',
      status: 500,
      detail: 'the service is misconfigured; the reason has been logged',
      code: 'invalid_configuration',
    });
    assert.match(output.headers?.['x-correlation-id'] ?? '', /^[0-9a-f-]{36}$/);
  });

  it("echoes the caller's X-Correlation-Id on that 500, and its problem type is on PUBLIC_BASE_URL when that setting is valid", async () => {
    delete process.env.AzureWebJobsStorage;
    process.env.REDRIVE_AFTER_SECONDS = '0';
    process.env.PUBLIC_BASE_URL = 'https://pchat.contoso.com';
    try {
      const handler = bindHttp(() => assert.fail('the entrypoint must not run without its dependencies'));
      const output = await handler({ ...aGet, headers: { get: (name) => (name === 'x-correlation-id' ? 'ticket-500' : null) } });

      assert.equal(output.headers?.['x-correlation-id'], 'ticket-500');
      assert.equal(JSON.parse(output.body as string).type, 'https://pchat.contoso.com/api/problems/invalid_configuration');
    } finally {
      delete process.env.PUBLIC_BASE_URL;
    }
  });
});
