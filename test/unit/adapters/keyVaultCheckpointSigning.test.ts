import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyVaultKey } from '@azure/keyvault-keys';
import { keyVaultCheckpointSigning, type KeyVaultKeyClients } from '../../../shared/adapters/keyVault/keyVaultCheckpointSigning';
import { ConfigurationError, UnavailableError } from '../../../shared/domain/errors';

const KEY_URI = 'https://contoso-audit.vault.azure.net/keys/audit-signing';
const SETTING = 'AUDIT_SIGNING_KEY_VAULT_KEY_ID';

/** An error shaped as the SDK's RestError (name and statusCode are what the adapter reads). */
function restError(statusCode: number | undefined): Error {
  return Object.assign(new Error(`status ${statusCode}`), { name: 'RestError', statusCode });
}

/** Key Vault clients whose key lookup answers `getKey`; signing is never reached in these tests. */
function clients(getKey: () => Promise<KeyVaultKey>): KeyVaultKeyClients {
  return { keys: { getKey }, cryptography: () => ({ sign: () => Promise.reject(new Error('not reached')) }) };
}

describe('keyVaultCheckpointSigning', () => {
  it('translates Key Vault failures: 403 names the role the identity lacks, an outage is retryable, and is tried again later', async () => {
    const answers = [restError(403), restError(503), restError(undefined)];
    const { signer } = keyVaultCheckpointSigning(
      KEY_URI,
      clients(() => Promise.reject(answers.shift() ?? new Error('no more answers'))),
      SETTING,
    );

    await assert.rejects(signer.key(), (error: unknown) => {
      assert.ok(error instanceof ConfigurationError);
      assert.equal(error.message, `${SETTING}: the app's identity may not use the key (403); it needs the Key Vault Crypto User role`);
      return true;
    });
    await assert.rejects(
      signer.key(),
      (error: unknown) => error instanceof UnavailableError && error.message === 'Key Vault is unavailable',
    );
    await assert.rejects(signer.key(), (error: unknown) => error instanceof UnavailableError);
  });

  it('refuses a key that is not EC P-256, naming the setting', async () => {
    const rsa = {
      name: 'audit-signing',
      id: `${KEY_URI}/${'0'.repeat(32)}`,
      key: { kty: 'RSA' },
      properties: {},
    } as unknown as KeyVaultKey;
    const { signer } = keyVaultCheckpointSigning(
      KEY_URI,
      clients(() => Promise.resolve(rsa)),
      SETTING,
    );
    await assert.rejects(signer.key(), (error: unknown) => {
      assert.ok(error instanceof ConfigurationError);
      assert.equal(error.message, `${SETTING}: must name an EC P-256 key (ES256), not RSA`);
      return true;
    });
  });
});
