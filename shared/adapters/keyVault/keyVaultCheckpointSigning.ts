import { createHash, createPublicKey } from 'node:crypto';
import type { CryptographyClient, JsonWebKey, KeyClient, KeyVaultKey } from '@azure/keyvault-keys';
import type { CheckpointKeyRing, CheckpointSigner } from '../../application/ports/checkpointSigning';
import type { CheckpointSigningKey } from '../../domain/auditVerification';
import { ConfigurationError, ErrorCode, InvariantError, UnavailableError } from '../../domain/errors';
import { SigningAlgorithm, parseKeyVaultKeyUri, signatureVerifies, type VerificationKey } from '../../domain/signingKeys';
import { isStorageOutage, statusOf } from '../azureErrors';

/** The two Key Vault clients signing needs; the composition root builds them (shared/composition/clients.ts). */
export interface KeyVaultKeyClients {
  /** Reads a key's public JWK and versioned id: GET {vault}/keys/{name}/{version}. */
  keys: Pick<KeyClient, 'getKey'>;
  /** Signs with exactly this key version: POST {vault}/keys/{name}/{version}/sign. */
  cryptography(key: KeyVaultKey): Pick<CryptographyClient, 'sign'>;
}

/**
 * Signing audit checkpoints with a Key Vault EC P-256 key (ES256) through the app's managed identity:
 * the private key never leaves the vault, and no setting holds a secret. The signer resolves the key
 * on first use (GET key: its public JWK and versioned id) and signs with that version from then on,
 * so the key id a checkpoint states (the versioned `kid`) is the key that signed it; a key rotated
 * in the vault is picked up at the next start. The key ring answers for any version of the same key
 * in the same vault, fetched once each, so checkpoints signed before a rotation keep verifying.
 */
export function keyVaultCheckpointSigning(
  keyUri: string,
  clients: KeyVaultKeyClients,
  /** The setting that named the key (AUDIT_SIGNING_KEY_VAULT_KEY_ID), for error messages. */
  setting: string,
): { signer: CheckpointSigner; keyRing: CheckpointKeyRing } {
  const configured = parseKeyVaultKeyUri(keyUri);
  if (!configured) throw new ConfigurationError(ErrorCode.invalidConfiguration, `${setting}: is not a Key Vault key URI`);
  const fetch = (version: string | undefined) => fetchKey(clients, configured.name, version, setting);

  let signing: Promise<{ key: VerificationKey; client: Pick<CryptographyClient, 'sign'> }> | undefined;
  const resolved = () => {
    if (!signing) {
      signing = fetch(configured.version).then(({ vaultKey, key }) => ({ key, client: clients.cryptography(vaultKey) }));
      // A failed lookup (an outage) is tried again at the next checkpoint, not remembered.
      signing.catch(() => (signing = undefined));
    }
    return signing;
  };

  const signer: CheckpointSigner = {
    async key(): Promise<CheckpointSigningKey> {
      const { key } = await resolved();
      return { keyId: key.keyId, algorithm: key.algorithm };
    },
    async sign(statement) {
      const { key, client } = await resolved();
      // Key Vault signs a digest: ES256 is ECDSA over SHA-256 of the statement.
      const digest = createHash('sha256').update(statement).digest();
      const { result } = await keyVaultCall(() => client.sign('ES256', digest), setting);
      // A signature that would not verify is never stored as a checkpoint.
      if (!signatureVerifies(key, SigningAlgorithm.es256, statement, result))
        throw new InvariantError(ErrorCode.invariantBroken, `Key Vault returned a signature that does not verify with ${key.keyId}`);
      return result;
    },
  };

  const versions = new Map<string, Promise<VerificationKey | undefined>>();
  const keyRing: CheckpointKeyRing = {
    publicKey(keyId) {
      const named = parseKeyVaultKeyUri(keyId);
      // Only versions of the configured key in the configured vault: a checkpoint must not choose where its key comes from.
      if (!named?.version || named.vaultUrl !== configured.vaultUrl || named.name.toLowerCase() !== configured.name.toLowerCase())
        return Promise.resolve(undefined);
      let found = versions.get(keyId);
      if (!found) {
        found = fetch(named.version).then(
          ({ key }) => (key.keyId === keyId ? key : undefined),
          (error: unknown) => {
            versions.delete(keyId);
            if (statusOf((error as { cause?: unknown }).cause) === 404) return undefined;
            throw error;
          },
        );
        versions.set(keyId, found);
      }
      return found;
    },
    legacyKeys: () => [],
    listedKeys: () => [],
  };

  return { signer, keyRing };
}

/** A key version and its public key, checked to be an EC P-256 key that may sign. */
async function fetchKey(
  clients: KeyVaultKeyClients,
  name: string,
  version: string | undefined,
  setting: string,
): Promise<{ vaultKey: KeyVaultKey; key: VerificationKey }> {
  const vaultKey = await keyVaultCall(() => clients.keys.getKey(name, version ? { version } : {}), setting);
  const jwk = vaultKey.key;
  const problem = !vaultKey.id
    ? 'has no id'
    : !jwk || (jwk.kty !== 'EC' && jwk.kty !== 'EC-HSM') || jwk.crv !== 'P-256' || !jwk.x || !jwk.y
      ? `must name an EC P-256 key (ES256), not ${jwk?.kty ?? 'no key'} ${jwk?.crv ?? ''}`.trim()
      : vaultKey.keyOperations && !vaultKey.keyOperations.includes('sign')
        ? 'must name a key whose operations include sign'
        : undefined;
  if (problem) throw new ConfigurationError(ErrorCode.invalidConfiguration, `${setting}: ${problem}`);
  return { vaultKey, key: { keyId: vaultKey.id as string, algorithm: SigningAlgorithm.es256, publicKey: publicKeyOf(jwk as JsonWebKey) } };
}

/** Node's public key of a Key Vault EC JWK (its x and y arrive as bytes). */
function publicKeyOf(jwk: JsonWebKey): VerificationKey['publicKey'] {
  const coordinate = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('base64url');
  return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: coordinate(jwk.x), y: coordinate(jwk.y) }, format: 'jwk' });
}

/**
 * A Key Vault request, its failures translated: an outage is UnavailableError (try later); 401/403
 * is a ConfigurationError (the app's identity lacks Key Vault Crypto User on the key); 404 a
 * ConfigurationError naming the setting, its RestError kept as the cause.
 */
async function keyVaultCall<T>(call: () => Promise<T>, setting: string): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const status = statusOf(error);
    if (status === 401 || status === 403)
      throw new ConfigurationError(
        ErrorCode.invalidConfiguration,
        `${setting}: the app's identity may not use the key (${status}); it needs the Key Vault Crypto User role`,
        { cause: error },
      );
    if (status === 404) throw new ConfigurationError(ErrorCode.invalidConfiguration, `${setting}: no such key (404)`, { cause: error });
    if (isStorageOutage(error)) throw new UnavailableError(ErrorCode.serviceUnavailable, 'Key Vault is unavailable', { cause: error });
    throw error;
  }
}
