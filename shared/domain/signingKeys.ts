import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';

/**
 * The signature algorithms audit checkpoints may carry, as JOSE names them (RFC 7518, RFC 8037):
 * Ed25519 (`EdDSA`, the local development key) and ECDSA P-256 with SHA-256 (`ES256`, what an
 * Azure Key Vault EC key signs with; also a local P-256 PEM key).
 */
export const SigningAlgorithm = { edDsa: 'EdDSA', es256: 'ES256' } as const;
export type SigningAlgorithm = (typeof SigningAlgorithm)[keyof typeof SigningAlgorithm];

/** A public key by its key id, and the one algorithm it verifies. */
export interface VerificationKey {
  keyId: string;
  algorithm: SigningAlgorithm;
  publicKey: KeyObject;
}

/** The public half of a key (a private key yields its public key). */
export function publicHalf(key: KeyObject): KeyObject {
  return key.type === 'private' ? createPublicKey(key) : key;
}

/**
 * The algorithm a key signs with, or undefined for a key checkpoints cannot use. The key decides,
 * never the checkpoint: a verifier that took the algorithm from the signed data could be talked
 * into another one.
 */
export function algorithmOfKey(key: KeyObject): SigningAlgorithm | undefined {
  if (key.asymmetricKeyType === 'ed25519') return SigningAlgorithm.edDsa;
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return SigningAlgorithm.es256;
  return undefined;
}

/**
 * The RFC 7638 JWK thumbprint of a public key (base64url SHA-256 of its required members in
 * lexicographic order, no whitespace): the key id of a local key, the same wherever it is computed.
 */
export function jwkThumbprint(key: KeyObject): string {
  const jwk = publicHalf(key).export({ format: 'jwk' });
  const members =
    jwk.kty === 'EC'
      ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
      : jwk.kty === 'OKP'
        ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x }
        : undefined;
  if (!members) throw new TypeError(`no JWK thumbprint for a ${String(jwk.kty)} key`);
  return createHash('sha256').update(JSON.stringify(members), 'utf8').digest('base64url');
}

/** The verification key of a public (or private) key, named by its JWK thumbprint; undefined for an unusable key type. */
export function thumbprintKey(key: KeyObject): VerificationKey | undefined {
  const algorithm = algorithmOfKey(key);
  return algorithm ? { keyId: jwkThumbprint(key), algorithm, publicKey: publicHalf(key) } : undefined;
}

/** Whether two verification keys are the same public key for the same algorithm (their ids aside). */
export function sameKey(a: VerificationKey, b: VerificationKey): boolean {
  return a.algorithm === b.algorithm && a.publicKey.equals(b.publicKey);
}

/**
 * Whether `signature` is `algorithm`'s signature of `statement` by `key`. ES256 signatures are
 * IEEE P1363 (r || s, 64 bytes) as in JWS and as Key Vault returns them, not DER.
 */
export function signatureVerifies(key: VerificationKey, algorithm: string, statement: Uint8Array, signature: Uint8Array): boolean {
  if (algorithm !== key.algorithm) return false;
  try {
    if (algorithm === SigningAlgorithm.edDsa) return verify(null, statement, key.publicKey, signature);
    return verify('sha256', statement, { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

/** A Key Vault key URI taken apart: https://<vault>/keys/<name>[/<version>]. */
export interface KeyVaultKeyUri {
  /** The vault's origin, https://<vault>.vault.azure.net. */
  vaultUrl: string;
  name: string;
  version: string | undefined;
}

/** Key Vault's key names (1-127 letters, digits, dashes) and versions (32 hex digits). */
const KEY_VAULT_KEY_PATH = /^\/keys\/([0-9A-Za-z-]{1,127})(?:\/([0-9A-Fa-f]{32}))?\/?$/;

/** Plain http is accepted only on loopback, where a test's stand-in Key Vault listens; nothing leaves the machine. */
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * The parts of a Key Vault key URI (what AUDIT_SIGNING_KEY_VAULT_KEY_ID holds, and what a Key Vault
 * checkpoint's key id is), or undefined when it is not one: https (http on loopback only), the path
 * /keys/<name> with an optional /<version>, no query, fragment or credentials.
 */
export function parseKeyVaultKeyUri(uri: string): KeyVaultKeyUri | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
  const match = KEY_VAULT_KEY_PATH.exec(url.pathname);
  if (!secure || !match || url.search || url.hash || url.username || url.password) return undefined;
  return { vaultUrl: url.origin, name: match[1] as string, version: match[2] };
}
