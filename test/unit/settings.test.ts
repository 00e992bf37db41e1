import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfigurationError } from '../../shared/domain/errors';
import { jwkOf } from '../../shared/domain/jwk';
import { jwkThumbprint } from '../../shared/domain/signingKeys';
import { isStorageConfigured, parseRegistrationSettings, parseSettings, parseStorageConnection } from '../../shared/settings';
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
      verificationSchedule: '*/15 * * * * *',
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

  describe('the public base URL', () => {
    it('is PUBLIC_BASE_URL as an origin, else https://WEBSITE_HOSTNAME, else unset (the local host fills in its own)', () => {
      assert.equal(parseSettings({ ...minimal, PUBLIC_BASE_URL: 'HTTPS://PChat.Contoso.com/' }).publicBaseUrl, 'https://pchat.contoso.com');
      assert.equal(parseSettings({ ...minimal, PUBLIC_BASE_URL: 'http://localhost:8080' }).publicBaseUrl, 'http://localhost:8080');
      assert.equal(
        parseSettings({ ...minimal, WEBSITE_HOSTNAME: 'app-abc.azurewebsites.net' }).publicBaseUrl,
        'https://app-abc.azurewebsites.net',
      );
      assert.equal(
        parseSettings({ ...minimal, WEBSITE_HOSTNAME: 'app-abc.azurewebsites.net', PUBLIC_BASE_URL: 'https://pchat.contoso.com' })
          .publicBaseUrl,
        'https://pchat.contoso.com',
      );
      assert.equal(parseSettings(minimal).publicBaseUrl, undefined);
    });

    it('refuses anything but an http(s) origin, naming the setting and the rule', () => {
      const rule = 'PUBLIC_BASE_URL: must be an http(s) origin such as https://pchat.contoso.com, without a path, query, fragment or user';
      for (const value of [
        'pchat.contoso.com',
        'ftp://pchat.contoso.com',
        'https://pchat.contoso.com/api',
        'https://pchat.contoso.com?x=1',
        'https://pchat.contoso.com#top',
        'https://user:pass@pchat.contoso.com',
        'javascript:alert(1)',
        'https://\ud800.contoso.com',
      ]) {
        assert.throws(
          () => parseSettings({ ...minimal, PUBLIC_BASE_URL: value }),
          (error: unknown) => error instanceof ConfigurationError && error.errors.map((e) => e.detail).join() === rule,
          value,
        );
      }
      assert.throws(
        () => parseSettings({ ...minimal, WEBSITE_HOSTNAME: 'evil.example/path' }),
        (error: unknown) => error instanceof ConfigurationError && error.errors.some((e) => e.detail.startsWith('WEBSITE_HOSTNAME: ')),
      );
    });
  });

  describe('connections', () => {
    const CLIENT_ID = '8c7f1b9e-2d4a-4c51-9e0f-3a6b5d7c9e21';
    const OTHER_CLIENT_ID = '11111111-2222-4333-8444-555555555555';
    /** The detail of every setting error for an environment, or [] when it parses. */
    const errorsOf = (env: Record<string, string>): string[] => {
      try {
        parseSettings(env);
        return [];
      } catch (error) {
        assert.ok(error instanceof ConfigurationError);
        return error.errors.map((e) => e.detail);
      }
    };

    it('reads a connection string as one (Azurite locally), and no Service Bus when none is set', () => {
      const parsed = parseSettings(minimal);

      assert.deepEqual(parsed.storage, { kind: 'connectionString', value: 'UseDevelopmentStorage=true' });
      assert.equal(parsed.serviceBus, undefined);
    });

    it('builds the table, queue and blob service URIs from AzureWebJobsStorage__accountName, with DefaultAzureCredential by default', () => {
      assert.deepEqual(parseSettings({ AzureWebJobsStorage__accountName: 'pchatstore01' }).storage, {
        kind: 'identity',
        credential: 'default',
        tableServiceUri: 'https://pchatstore01.table.core.windows.net',
        queueServiceUri: 'https://pchatstore01.queue.core.windows.net',
        blobServiceUri: 'https://pchatstore01.blob.core.windows.net',
      });
    });

    it('reads __blobServiceUri (the blob witness) as given, has none without it or the account name, and names a bad one', () => {
      const uris = {
        AzureWebJobsStorage__tableServiceUri: 'https://store.table.core.windows.net',
        AzureWebJobsStorage__queueServiceUri: 'https://store.queue.core.windows.net',
      };
      const storage = parseSettings(uris).storage;
      assert.equal(storage.kind === 'identity' && storage.blobServiceUri, undefined);
      const given = parseSettings({ ...uris, AzureWebJobsStorage__blobServiceUri: 'https://store.blob.core.windows.net/' }).storage;
      assert.equal(given.kind === 'identity' && given.blobServiceUri, 'https://store.blob.core.windows.net');
      assert.deepEqual(errorsOf({ ...uris, AzureWebJobsStorage__blobServiceUri: 'http://store.blob.core.windows.net' }), [
        'AzureWebJobsStorage__blobServiceUri: must be an https URI (bearer tokens are only sent over TLS; Azurite takes them over https with --oauth basic)',
      ]);
      assert.deepEqual(
        errorsOf({ ...uris, AzureWebJobsStorage__blobServiceUri: 'https://store.blob.core.windows.net/?sv=2024&sig=secret' }),
        ['AzureWebJobsStorage__blobServiceUri: must not carry a query (a SAS token) or a fragment'],
      );
      assert.deepEqual(errorsOf({ ...uris, AzureWebJobsStorage__blobServiceUri: 'blob.core.windows.net' }), [
        'AzureWebJobsStorage__blobServiceUri: must be an absolute URI, such as https://<account>.table.core.windows.net',
      ]);
    });

    it('names the witness container AUDIT_WITNESS_CONTAINER (audit-checkpoints by default) and refuses a name Blob Storage would', () => {
      assert.equal(parseSettings(minimal).auditWitnessContainer, 'audit-checkpoints');
      assert.equal(parseSettings({ ...minimal, AUDIT_WITNESS_CONTAINER: 'worm-copies' }).auditWitnessContainer, 'worm-copies');
      for (const bad of ['Audit', 'a', 'two--hyphens', '-leading', 'x'.repeat(64), 'under_score']) {
        assert.deepEqual(
          errorsOf({ ...minimal, AUDIT_WITNESS_CONTAINER: bad }),
          ['AUDIT_WITNESS_CONTAINER: must be a blob container name (3-63 lowercase letters, digits and single hyphens)'],
          bad,
        );
      }
    });

    it('takes __tableServiceUri, __queueServiceUri and __blobServiceUri as given, with a user-assigned managed identity', () => {
      const parsed = parseSettings({
        AzureWebJobsStorage__tableServiceUri: 'https://store.table.core.chinacloudapi.cn/',
        AzureWebJobsStorage__queueServiceUri: 'https://store.queue.core.chinacloudapi.cn',
        AzureWebJobsStorage__blobServiceUri: 'https://store.blob.core.chinacloudapi.cn',
        AzureWebJobsStorage__credential: 'ManagedIdentity',
        AzureWebJobsStorage__clientId: CLIENT_ID,
      });

      assert.deepEqual(parsed.storage, {
        kind: 'identity',
        credential: 'managedidentity',
        clientId: CLIENT_ID,
        tableServiceUri: 'https://store.table.core.chinacloudapi.cn',
        queueServiceUri: 'https://store.queue.core.chinacloudapi.cn',
        blobServiceUri: 'https://store.blob.core.chinacloudapi.cn',
      });
    });

    it('prefers an explicit service URI to the account name, service by service', () => {
      const parsed = parseSettings({
        AzureWebJobsStorage__accountName: 'pchatstore01',
        AzureWebJobsStorage__tableServiceUri: 'https://127.0.0.1:10002/devstoreaccount1',
      });

      assert.deepEqual(parsed.storage.kind === 'identity' && [parsed.storage.tableServiceUri, parsed.storage.queueServiceUri], [
        'https://127.0.0.1:10002/devstoreaccount1',
        'https://pchatstore01.queue.core.windows.net',
      ]);
    });

    it("falls back to AZURE_CLIENT_ID for the client id; a connection's own __clientId wins", () => {
      const fallback = parseSettings({ AzureWebJobsStorage__accountName: 'pchatstore01', AZURE_CLIENT_ID: CLIENT_ID });
      const own = parseSettings({
        AzureWebJobsStorage__accountName: 'pchatstore01',
        AzureWebJobsStorage__clientId: OTHER_CLIENT_ID,
        AZURE_CLIENT_ID: CLIENT_ID,
      });

      assert.equal(fallback.storage.kind === 'identity' && fallback.storage.clientId, CLIENT_ID);
      assert.equal(own.storage.kind === 'identity' && own.storage.clientId, OTHER_CLIENT_ID);
    });

    it('lets a connection string win over identity-based settings, for storage and Service Bus', () => {
      const parsed = parseSettings({
        ...minimal,
        AzureWebJobsStorage__accountName: 'pchatstore01',
        MESSAGING_TRANSPORT: 'service-bus',
        ServiceBusConnection: 'Endpoint=sb://bus.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=v',
        ServiceBusConnection__fullyQualifiedNamespace: 'other.servicebus.windows.net',
      });

      assert.deepEqual(parsed.storage, { kind: 'connectionString', value: 'UseDevelopmentStorage=true' });
      assert.equal(parsed.serviceBus?.kind, 'connectionString');
    });

    it('reads ServiceBusConnection__fullyQualifiedNamespace with its own identity settings', () => {
      const parsed = parseSettings({
        ...minimal,
        MESSAGING_TRANSPORT: 'service-bus',
        ServiceBusConnection__fullyQualifiedNamespace: 'PChat-Bus.servicebus.windows.net',
        ServiceBusConnection__credential: 'managedidentity',
        ServiceBusConnection__clientId: CLIENT_ID,
      });

      assert.deepEqual(parsed.serviceBus, {
        kind: 'identity',
        credential: 'managedidentity',
        clientId: CLIENT_ID,
        fullyQualifiedNamespace: 'pchat-bus.servicebus.windows.net',
      });
    });

    it('names every accepted form when a connection is missing, and reads only the __ separator', () => {
      assert.deepEqual(errorsOf({ 'AzureWebJobsStorage:accountName': 'pchatstore01', MESSAGING_TRANSPORT: 'service-bus' }), [
        'AzureWebJobsStorage: is required: a Storage connection string (UseDevelopmentStorage=true for Azurite), or an identity-based connection: AzureWebJobsStorage__accountName, or AzureWebJobsStorage__tableServiceUri and AzureWebJobsStorage__queueServiceUri',
        'ServiceBusConnection: is required when MESSAGING_TRANSPORT is service-bus: a Service Bus connection string, or an identity-based connection: ServiceBusConnection__fullyQualifiedNamespace',
      ]);
    });

    it('refuses bad identity-based settings, naming each setting and its rule', () => {
      const cases: Array<[Record<string, string>, string[]]> = [
        [
          { AzureWebJobsStorage__tableServiceUri: 'https://store.table.core.windows.net' },
          [
            'AzureWebJobsStorage__queueServiceUri: is required when AzureWebJobsStorage__accountName is not set (both service URIs, or the account name)',
          ],
        ],
        [
          {
            AzureWebJobsStorage__tableServiceUri: 'http://127.0.0.1:10002/devstoreaccount1',
            AzureWebJobsStorage__queueServiceUri: 'https://store.queue.core.windows.net/?sv=2024&sig=secret',
          },
          [
            'AzureWebJobsStorage__tableServiceUri: must be an https URI (bearer tokens are only sent over TLS; Azurite takes them over https with --oauth basic)',
            'AzureWebJobsStorage__queueServiceUri: must not carry a query (a SAS token) or a fragment',
          ],
        ],
        [
          {
            AzureWebJobsStorage__tableServiceUri: 'store.table.core.windows.net',
            AzureWebJobsStorage__queueServiceUri: 'https://u:p@store.queue.core.windows.net',
          },
          [
            'AzureWebJobsStorage__tableServiceUri: must be an absolute URI, such as https://<account>.table.core.windows.net',
            'AzureWebJobsStorage__queueServiceUri: must not carry a user name or password',
          ],
        ],
        [
          {
            AzureWebJobsStorage__accountName: 'PChat_Store',
            AzureWebJobsStorage__credential: 'clientsecret',
            AzureWebJobsStorage__clientId: 'my-app',
          },
          [
            'AzureWebJobsStorage__accountName: must be a storage account name (3-24 lowercase letters and digits)',
            'AzureWebJobsStorage__tableServiceUri: is required when AzureWebJobsStorage__accountName is not set (both service URIs, or the account name)',
            'AzureWebJobsStorage__queueServiceUri: is required when AzureWebJobsStorage__accountName is not set (both service URIs, or the account name)',
            'AzureWebJobsStorage__credential: must be managedidentity, or unset for DefaultAzureCredential',
            'AzureWebJobsStorage__clientId: must be a client id (a GUID)',
          ],
        ],
        [
          { ...minimal, AZURE_CLIENT_ID: 'not-a-guid', ServiceBusConnection__fullyQualifiedNamespace: 'sb://bus.servicebus.windows.net/' },
          [
            'ServiceBusConnection__fullyQualifiedNamespace: must be a host name such as <namespace>.servicebus.windows.net, without sb:// or a path',
            'AZURE_CLIENT_ID: must be a client id (a GUID)',
          ],
        ],
      ];

      assert.deepEqual(
        cases.map(([env]) => errorsOf(env)),
        cases.map(([, expected]) => expected),
      );
    });

    it('ignores AZURE_CLIENT_ID when every connection is a connection string', () => {
      assert.equal(parseSettings({ ...minimal, AZURE_CLIENT_ID: 'used by another SDK, not a GUID' }).storage.kind, 'connectionString');
    });

    it("resolves another binding's connection prefix, and says whether any storage form is set", () => {
      assert.deepEqual(parseStorageConnection('OtherStorage', { OtherStorage__accountName: 'otherstore' }), {
        kind: 'identity',
        credential: 'default',
        tableServiceUri: 'https://otherstore.table.core.windows.net',
        queueServiceUri: 'https://otherstore.queue.core.windows.net',
        blobServiceUri: 'https://otherstore.blob.core.windows.net',
      });
      assert.throws(() => parseStorageConnection('OtherStorage', minimal), /OtherStorage: is required/);
      assert.deepEqual(
        [{}, minimal, { AzureWebJobsStorage__accountName: 'x' }, { AzureWebJobsStorage__blobServiceUri: 'https://x' }].map((env) =>
          isStorageConfigured(env),
        ),
        [false, true, true, false],
      );
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

    describe('AUDIT_VERIFY_KEYS (retired keys that still verify old checkpoints)', () => {
      const pemOf = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();
      const refusal = (value: string) => {
        try {
          parseSettings({ ...minimal, AUDIT_VERIFY_KEYS: value });
        } catch (error) {
          assert.ok(error instanceof ConfigurationError);
          return error.errors.map((e) => [e.pointer, e.detail]);
        }
        return assert.fail('accepted');
      };

      it('reads PEM public keys one after another (`\\n` escapes too), named by thumbprint, and a JWK set with its kids', () => {
        const ed = generateKeyPairSync('ed25519').publicKey;
        const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
        const pems = `${pemOf(ed)}\n${pemOf(ec)}${pemOf(ed)}`;
        const fromPem = parseSettings({ ...minimal, AUDIT_VERIFY_KEYS: pems }).auditVerifyKeys;
        assert.deepEqual(
          fromPem.map((key) => [key.keyId, key.algorithm]),
          [
            [jwkThumbprint(ed), 'EdDSA'],
            [jwkThumbprint(ec), 'ES256'],
          ],
        );
        const escaped = parseSettings({ ...minimal, AUDIT_VERIFY_KEYS: pemOf(ed).replace(/\n/g, '\\n') }).auditVerifyKeys;
        assert.deepEqual(
          escaped.map((key) => key.keyId),
          [jwkThumbprint(ed)],
        );

        const kid = 'https://contoso-audit.vault.azure.net/keys/audit-signing/0123456789abcdef0123456789abcdef';
        const set = JSON.stringify({ keys: [jwkOf({ keyId: kid, algorithm: 'ES256', publicKey: ec })] });
        const fromJwks = parseSettings({ ...minimal, AUDIT_VERIFY_KEYS: set }).auditVerifyKeys;
        assert.deepEqual(
          fromJwks.map((key) => [key.keyId, key.algorithm]),
          [[kid, 'ES256']],
        );
        assert.ok(fromJwks[0]?.publicKey.equals(ec));

        assert.deepEqual(parseSettings(minimal).auditVerifyKeys, []);
        assert.deepEqual(parseSettings({ ...minimal, AUDIT_VERIFY_KEYS: '  ' }).auditVerifyKeys, [], 'blank is unset');
      });

      it('refuses a private key, in either form, naming the setting and never quoting the key', () => {
        const { privateKey } = generateKeyPairSync('ed25519');
        const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
        const ecPrivate = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }).toString();
        assert.deepEqual(refusal(pkcs8), [
          [
            '#/AUDIT_VERIFY_KEYS',
            'AUDIT_VERIFY_KEYS: PEM key 1: is a private key (PRIVATE KEY); give its public key (openssl pkey -pubout)',
          ],
        ]);
        assert.deepEqual(refusal(pemOf(generateKeyPairSync('ed25519').publicKey) + ecPrivate), [
          [
            '#/AUDIT_VERIFY_KEYS',
            'AUDIT_VERIFY_KEYS: PEM key 2: is a private key (EC PRIVATE KEY); give its public key (openssl pkey -pubout)',
          ],
        ]);
        const jwkSet = JSON.stringify({ keys: [privateKey.export({ format: 'jwk' })] });
        const refused = refusal(jwkSet);
        assert.deepEqual(refused, [
          ['#/AUDIT_VERIFY_KEYS', 'AUDIT_VERIFY_KEYS: keys[0].d: is a private key member; give the public key only'],
        ]);
        const d = privateKey.export({ format: 'jwk' }).d as string;
        assert.ok(!JSON.stringify(refused).includes(d) && !JSON.stringify(refusal(pkcs8)).includes(pkcs8.split('\n')[1] as string));
      });

      it('refuses what is neither form, an unsupported key, and two keys under one kid, each by its rule', () => {
        const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
        const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey;
        const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
        const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
        const detail = (value: string) => refusal(value).map(([, text]) => text);
        assert.deepEqual(detail('ssh-ed25519 AAAA'), [
          'AUDIT_VERIFY_KEYS: must be a JWK set ({"keys":[...]}) or PEM public keys (-----BEGIN PUBLIC KEY-----)',
        ]);
        assert.deepEqual(detail(pemOf(rsa)), ['AUDIT_VERIFY_KEYS: PEM key 1: must be an Ed25519 or EC P-256 key, not rsa']);
        assert.deepEqual(detail(pemOf(p384)), ['AUDIT_VERIFY_KEYS: PEM key 1: must be an Ed25519 or EC P-256 key, not ec secp384r1']);
        assert.deepEqual(detail(`${pemOf(ec)}junk\n`), ['AUDIT_VERIFY_KEYS: PEM key 2: text outside a -----BEGIN ...----- block']);
        assert.deepEqual(detail(pemOf(ec).replace('-----END PUBLIC KEY-----', '')), [
          'AUDIT_VERIFY_KEYS: PEM key 1: BEGIN PUBLIC KEY has no END line',
        ]);
        assert.deepEqual(detail('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'), [
          'AUDIT_VERIFY_KEYS: PEM key 1: must be a -----BEGIN PUBLIC KEY----- block, not CERTIFICATE',
        ]);
        const kid = 'https://contoso-audit.vault.azure.net/keys/audit-signing/0123456789abcdef0123456789abcdef';
        const twice = JSON.stringify({ keys: [ec, other].map((publicKey) => jwkOf({ keyId: kid, algorithm: 'ES256', publicKey })) });
        assert.deepEqual(detail(twice), ["AUDIT_VERIFY_KEYS: keys[1].kid: names keys[0]'s key id with a different key"]);
        assert.deepEqual(detail('{"keys":'), ['AUDIT_VERIFY_KEYS: is not JSON: must be a JWK set, {"keys":[...]}']);
      });
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
