import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfigurationError } from '../../shared/domain/errors';
import { parseRegistrationSettings, parseSettings } from '../../shared/settings';
import { readHostSettings } from '../../shared/local/hostSettings';

const APP_ROOT = path.resolve(__dirname, '..', '..', '..');
const minimal = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };

describe('settings', () => {
  it('marks a request failed on the same delivery host.json sets it aside on', () => {
    // The handler settles the request as failed on its last delivery; the host moves the message to poison after that one.
    assert.equal(parseSettings(minimal).delivery.maxDeliveries, readHostSettings(APP_ROOT).queues.maxDequeueCount);
  });

  it('reads the delivery policy, with the documented defaults', () => {
    assert.deepEqual(parseSettings(minimal).delivery, {
      redriveAfterMs: 30_000,
      maxSends: 5,
      maxDeliveries: 5,
      idempotencyKeyTtlMs: 86_400_000,
    });
    assert.equal(parseSettings(minimal).redriveSchedule, '*/10 * * * * *');
    const tuned = parseSettings({
      ...minimal,
      REDRIVE_AFTER_SECONDS: '2',
      REDRIVE_MAX_SENDS: '20',
      MAX_DELIVERY_COUNT: '10',
      IDEMPOTENCY_KEY_TTL_HOURS: '1',
      REDRIVE_SCHEDULE: '*/1 * * * * *',
    });
    assert.deepEqual(tuned.delivery, { redriveAfterMs: 2000, maxSends: 20, maxDeliveries: 10, idempotencyKeyTtlMs: 3_600_000 });
    assert.equal(tuned.redriveSchedule, '*/1 * * * * *');
  });

  it('names each bad setting and its rule in a ConfigurationError', () => {
    assert.throws(
      () => parseSettings({ ...minimal, REDRIVE_AFTER_SECONDS: '0', REDRIVE_MAX_SENDS: 'many' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigurationError);
        assert.equal(error.code, 'invalid_configuration');
        assert.deepEqual(error.errors.map((e) => e.pointer).sort(), ['#/REDRIVE_AFTER_SECONDS', '#/REDRIVE_MAX_SENDS']);
        assert.match(error.message, /REDRIVE_AFTER_SECONDS: must be at least 1/);
        return true;
      },
    );
  });

  it('reads the registration settings without needing the runtime ones (no storage connection)', () => {
    assert.deepEqual(parseRegistrationSettings({ MESSAGING_TRANSPORT: 'service-bus', ENDPOINT_CREATE_QUEUE: 'creates' }), {
      transport: 'service-bus',
      queues: { endpointCreate: 'creates', endpointDelete: 'endpoint-delete', auditEvents: 'audit-events' },
      redriveSchedule: '*/10 * * * * *',
      checkpointSchedule: '0 */5 * * * *',
    });
  });

  describe('authentication', () => {
    const key = (n: number) => `key-${n}-`.padEnd(40, 'k');
    const entry = (principal: string, roles: string[], k: string) => ({ principal, roles, key: k });
    /** The settings errors for LOCAL_API_KEYS set to `value` (JSON-encoded unless a string). */
    const keyErrors = (value: unknown): string[] => {
      try {
        parseSettings({ ...minimal, LOCAL_API_KEYS: typeof value === 'string' ? value : JSON.stringify(value) });
      } catch (error) {
        assert.ok(error instanceof ConfigurationError);
        return error.errors.map((e) => e.detail);
      }
      return [];
    };

    it('defaults to keys mode with no key, and reads LOCAL_API_KEYS', () => {
      assert.deepEqual(parseSettings(minimal).auth, { mode: 'keys', apiKeys: [], runningInAzure: false });
      const keys = [entry('alice@contoso.com', ['submitter'], key(1)), entry('ops', ['operator', 'auditor', 'operator'], key(2))];

      const parsed = parseSettings({ ...minimal, AUTH_MODE: 'keys', LOCAL_API_KEYS: JSON.stringify(keys) }).auth;

      assert.deepEqual(parsed.apiKeys, [keys[0], { ...keys[1], roles: ['operator', 'auditor'] }]);
    });

    it('refuses bad keys at start, naming the entry and field, and never quoting a key', () => {
      const secret = 'SECRET-'.padEnd(40, 's');
      const errors = [
        keyErrors(`[{"principal":"a","roles":["submitter"],"key":"${secret}"`),
        keyErrors({ principal: 'a' }),
        keyErrors([entry('a', ['submitter'], 'short-' + 'x'.repeat(20))]),
        keyErrors([entry('a', ['submitter'], 'has spaces in it '.repeat(3))]),
        keyErrors([entry('a', [], key(1)), entry('b', ['admin'], key(2))]),
        keyErrors([entry('', ['reader'], key(1)), entry('x'.repeat(257), ['reader'], key(2))]),
        keyErrors([entry('lone\uD800', ['reader'], key(1)), entry('tab\tname', ['reader'], key(2))]),
        keyErrors([entry('a', ['reader'], secret), entry('b', ['auditor'], secret)]),
      ];

      assert.deepEqual(errors, [
        ['LOCAL_API_KEYS: must be a JSON array of {"principal","roles","key"} objects'],
        ['LOCAL_API_KEYS: must be a JSON array of {"principal","roles","key"} objects'],
        ['LOCAL_API_KEYS.0.key: must be at least 32 characters'],
        ['LOCAL_API_KEYS.0.key: must be letters, digits and - . _ ~ + / (a bearer token)'],
        [
          'LOCAL_API_KEYS.0.roles: must name at least one role',
          'LOCAL_API_KEYS.1.roles.0: must be one of submitter, operator, auditor, reader',
        ],
        ['LOCAL_API_KEYS.0.principal: must not be empty', 'LOCAL_API_KEYS.1.principal: must be at most 256 characters'],
        [
          'LOCAL_API_KEYS.0.principal: must be well-formed Unicode (no lone surrogates)',
          'LOCAL_API_KEYS.1.principal: must not contain control characters or line separators',
        ],
        ['LOCAL_API_KEYS.1.key: is the same key as an earlier entry'],
      ]);
      assert.ok(errors.flat().every((detail) => !detail.includes('SECRET')));
    });

    it('refuses AUTH_MODE=off when running in Azure (WEBSITE_INSTANCE_ID set), and an unknown mode', () => {
      assert.deepEqual(parseSettings({ ...minimal, AUTH_MODE: 'off' }).auth, { mode: 'off', apiKeys: [], runningInAzure: false });
      assert.equal(parseSettings({ ...minimal, AUTH_MODE: 'easyauth', WEBSITE_INSTANCE_ID: 'abc' }).auth.mode, 'easyauth');

      for (const [env, message] of [
        [{ AUTH_MODE: 'off', WEBSITE_INSTANCE_ID: 'abc' }, 'AUTH_MODE: must not be off when running in Azure (WEBSITE_INSTANCE_ID is set)'],
        [{ AUTH_MODE: 'anyone' }, 'AUTH_MODE: must be keys, easyauth or off'],
      ] as const) {
        assert.throws(
          () => parseSettings({ ...minimal, ...env }),
          (error: unknown) => error instanceof ConfigurationError && error.errors.map((e) => e.detail).join() === message,
        );
      }
    });
  });

  describe('audit checkpoint signing', () => {
    const version = '0123456789abcdef0123456789abcdef';

    it('reads a Key Vault key URI, with or without its version (http only on loopback, for a stand-in)', () => {
      for (const uri of [
        'https://contoso-audit.vault.azure.net/keys/audit-signing',
        `https://contoso-audit.vault.azure.net/keys/audit-signing/${version}`,
        'https://contoso-audit.vault.azure.net:443/keys/audit-signing/',
        'http://127.0.0.1:51234/keys/audit-signing',
      ]) {
        const settings = parseSettings({ ...minimal, AUDIT_SIGNING_KEY_VAULT_KEY_ID: uri });
        assert.equal(settings.auditSigningKeyVaultKeyId, uri);
        assert.equal(settings.auditSigningKey, undefined);
      }
      assert.equal(parseSettings({ ...minimal, AZURE_CLIENT_ID: 'client-id' }).azureClientId, 'client-id');
    });

    it('refuses a value that is not a Key Vault key URI, naming the setting and the rule, never quoting it', () => {
      const rule =
        'AUDIT_SIGNING_KEY_VAULT_KEY_ID: must be a Key Vault key URI: https://<vault>.vault.azure.net/keys/<name>[/<32-hex version>] (http on loopback only), without query or fragment';
      for (const uri of [
        'contoso-audit',
        'http://contoso-audit.vault.azure.net/keys/audit-signing',
        'https://contoso-audit.vault.azure.net/secrets/audit-signing',
        'https://contoso-audit.vault.azure.net/keys/audit_signing',
        'https://contoso-audit.vault.azure.net/keys/audit-signing/not-a-version',
        'https://contoso-audit.vault.azure.net/keys/audit-signing?api-version=7.4',
        'https://user:pw@contoso-audit.vault.azure.net/keys/audit-signing',
      ]) {
        assert.throws(
          () => parseSettings({ ...minimal, AUDIT_SIGNING_KEY_VAULT_KEY_ID: uri }),
          (error: unknown) => error instanceof ConfigurationError && error.errors.map((e) => e.detail).join() === rule,
          uri,
        );
      }
    });

    it('refuses AUDIT_SIGNING_KEY and AUDIT_SIGNING_KEY_VAULT_KEY_ID together', () => {
      assert.throws(
        () =>
          parseSettings({
            ...minimal,
            AUDIT_SIGNING_KEY: '-----BEGIN PRIVATE KEY-----',
            AUDIT_SIGNING_KEY_VAULT_KEY_ID: 'https://contoso-audit.vault.azure.net/keys/audit-signing',
          }),
        (error: unknown) =>
          error instanceof ConfigurationError &&
          error.errors.map((e) => [e.pointer, e.detail]).join() ===
            [
              '#/AUDIT_SIGNING_KEY_VAULT_KEY_ID',
              'AUDIT_SIGNING_KEY_VAULT_KEY_ID: must not be set together with AUDIT_SIGNING_KEY: checkpoints are signed by one key (Key Vault in Azure, a PEM key locally)',
            ].join(),
      );
    });
  });
});
