import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { algorithmOfKey, type VerificationKey } from './signingKeys';

/**
 * A checkpoint verification key as a public JWK (RFC 7517), as GET /api/audit/signing-keys serves it
 * and as an auditor's keys file holds it. `kid` is the checkpoint's keyId.
 *
 * (A minimal version written for offline verification; the fully validated one replaces it at merge.)
 */
export interface PublicJwk {
  kty: 'OKP' | 'EC';
  crv: 'Ed25519' | 'P-256';
  x: string;
  y?: string;
  kid: string;
  alg: 'EdDSA' | 'ES256';
  use: 'sig';
}

/** The public JWK of a verification key. */
export function jwkOf(key: VerificationKey): PublicJwk {
  const jwk = key.publicKey.export({ format: 'jwk' });
  if (key.algorithm === 'EdDSA') return { kty: 'OKP', crv: 'Ed25519', x: String(jwk.x), kid: key.keyId, alg: 'EdDSA', use: 'sig' };
  return { kty: 'EC', crv: 'P-256', x: String(jwk.x), y: String(jwk.y), kid: key.keyId, alg: 'ES256', use: 'sig' };
}

const BASE64URL = /^[A-Za-z0-9_-]{1,1024}$/;

/** The verification key a public JWK describes; throws a TypeError naming the member at fault. */
export function verificationKeyFromJwk(jwk: unknown): VerificationKey {
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) throw new TypeError('the key must be a JSON object (a JWK)');
  const members = jwk as Record<string, unknown>;
  if ('d' in members) throw new TypeError('member d: a private key is never accepted here, only public keys');
  const { kty, crv, x, y, kid, alg, use } = members;
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > 2048) throw new TypeError('member kid: must be a non-empty string');
  if (use !== undefined && use !== 'sig') throw new TypeError('member use: must be "sig"');
  const edDsa = kty === 'OKP' && crv === 'Ed25519';
  const es256 = kty === 'EC' && crv === 'P-256';
  if (!edDsa && !es256) throw new TypeError('members kty and crv: must be OKP with Ed25519, or EC with P-256');
  if (typeof x !== 'string' || !BASE64URL.test(x)) throw new TypeError('member x: must be base64url');
  if (es256 && (typeof y !== 'string' || !BASE64URL.test(y))) throw new TypeError('member y: must be base64url');
  const algorithm = edDsa ? 'EdDSA' : 'ES256';
  if (alg !== undefined && alg !== algorithm) throw new TypeError(`member alg: must be ${algorithm} for this key type`);
  let publicKey;
  try {
    const key: JsonWebKey = edDsa ? { kty, crv, x } : { kty, crv, x, y: y as string };
    publicKey = createPublicKey({ key, format: 'jwk' });
  } catch {
    throw new TypeError('member x: not a valid public key');
  }
  if (algorithmOfKey(publicKey) !== algorithm) throw new TypeError('member kty: the key is not usable for checkpoints');
  return { keyId: kid, algorithm, publicKey };
}

/** The verification keys of a JWK set ({"keys": [...]}); throws a TypeError naming the key (by index) and the member. */
export function parseJwkSet(text: string): VerificationKey[] {
  let set: unknown;
  try {
    set = JSON.parse(text);
  } catch {
    throw new TypeError('not JSON: a JWK set is {"keys": [...]}');
  }
  if (set === null || typeof set !== 'object' || !Array.isArray((set as { keys?: unknown }).keys))
    throw new TypeError('member keys: a JWK set is {"keys": [...]}');
  return (set as { keys: unknown[] }).keys.map((jwk, index) => {
    try {
      return verificationKeyFromJwk(jwk);
    } catch (error) {
      throw new TypeError(`keys[${index}]: ${(error as Error).message}`, { cause: error });
    }
  });
}
