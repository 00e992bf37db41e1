import { createPublicKey, type KeyObject } from 'node:crypto';
import { SigningAlgorithm, algorithmOfKey, jwkThumbprint, publicHalf, sameKey, type VerificationKey } from './signingKeys';

/**
 * Checkpoint keys as JSON Web Keys (RFC 7517, RFC 7518, RFC 8037): what GET /api/audit/signing-keys
 * serves, what AUDIT_VERIFY_KEYS and an offline verifier's keys file hold. Only the two key types
 * checkpoints are signed with pass: Ed25519 (OKP, EdDSA) and EC P-256 (ES256). Public members only,
 * both ways: a JWK carrying a private member is refused, never quietly reduced to its public half,
 * so a private key pasted into a verify-only place is noticed where it was pasted.
 */

/** A public JWK as GET /api/audit/signing-keys serves it. */
export interface PublicJwk {
  kty: 'OKP' | 'EC';
  crv: 'Ed25519' | 'P-256';
  x: string;
  y?: string;
  kid: string;
  alg: 'EdDSA' | 'ES256';
  use: 'sig';
}

/** The JWK of a verification key (public members only). */
export function jwkOf(key: VerificationKey): PublicJwk {
  // Exported from the public half only, and then only the members named here: never `d`.
  const exported = publicHalf(key.publicKey).export({ format: 'jwk' });
  if (key.algorithm === SigningAlgorithm.edDsa && exported.kty === 'OKP' && exported.crv === 'Ed25519' && exported.x) {
    return { kty: 'OKP', crv: 'Ed25519', x: exported.x, kid: key.keyId, alg: 'EdDSA', use: 'sig' };
  }
  if (key.algorithm === SigningAlgorithm.es256 && exported.kty === 'EC' && exported.crv === 'P-256' && exported.x && exported.y) {
    return { kty: 'EC', crv: 'P-256', x: exported.x, y: exported.y, kid: key.keyId, alg: 'ES256', use: 'sig' };
  }
  throw new TypeError(
    `key ${key.keyId}: its ${key.algorithm} algorithm does not fit a ${String(exported.kty)} ${String(exported.crv)} key`,
  );
}

/** Members that only a private (or symmetric) JWK carries (RFC 7518 section 6). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** The key types, curves and algorithms checkpoints use, and each coordinate's length in bytes. */
const KEY_TYPES = {
  OKP: { crv: 'Ed25519', alg: SigningAlgorithm.edDsa, coordinates: ['x'] },
  EC: { crv: 'P-256', alg: SigningAlgorithm.es256, coordinates: ['x', 'y'] },
} as const;
const COORDINATE_BYTES = 32;

// Unpadded base64url (RFC 7515 section 2): what every JWK coordinate is.
const BASE64URL = /^[A-Za-z0-9_-]+$/;
// Visible ASCII: a key id is a thumbprint or a Key Vault key URI, both plain ASCII; no control characters, no lone surrogates.
const KEY_ID = /^[\x21-\x7e]{1,1024}$/;

/** The verification key a JWK describes; throws a TypeError naming the member at fault (private keys refused). */
export function verificationKeyFromJwk(jwk: unknown): VerificationKey {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new TypeError('must be a JWK object');
  const members = jwk as Record<string, unknown>;
  for (const member of PRIVATE_MEMBERS) {
    if (member in members) throw new TypeError(`${member}: is a private key member; give the public key only`);
  }
  const kty = members.kty;
  if (kty !== 'OKP' && kty !== 'EC') throw new TypeError(`kty: must be OKP (Ed25519) or EC (P-256), not ${describe(kty)}`);
  const type = KEY_TYPES[kty];
  if (members.crv !== type.crv) throw new TypeError(`crv: must be ${type.crv} for kty ${kty}, not ${describe(members.crv)}`);
  if (members.alg !== undefined && members.alg !== type.alg)
    throw new TypeError(`alg: must be ${type.alg} for a ${type.crv} key, not ${describe(members.alg)}`);
  if (members.use !== undefined && members.use !== 'sig') throw new TypeError(`use: must be sig, not ${describe(members.use)}`);
  if (members.key_ops !== undefined && !(Array.isArray(members.key_ops) && members.key_ops.includes('verify')))
    throw new TypeError('key_ops: must include verify when present');
  if (kty === 'OKP' && members.y !== undefined) throw new TypeError('y: an OKP key has no y');
  const coordinates = Object.fromEntries(type.coordinates.map((name) => [name, coordinate(members, name)]));
  const publicKey = publicKeyOf({ kty, crv: type.crv, ...coordinates });
  const kid = members.kid;
  if (kid !== undefined && (typeof kid !== 'string' || !KEY_ID.test(kid)))
    throw new TypeError('kid: must be 1-1024 visible ASCII characters (a key thumbprint or a Key Vault key URI)');
  // The kid is trusted as given (a Key Vault key's id is its URI, not a thumbprint); a JWK without
  // one is named by its RFC 7638 thumbprint, the id a local key's checkpoints carry.
  return { keyId: kid ?? jwkThumbprint(publicKey), algorithm: type.alg, publicKey };
}

/** Every key of a JWK set's text ({"keys":[...]}); throws a TypeError naming the key (by index) and the member at fault. */
export function parseJwkSet(text: string): VerificationKey[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not the parser's message: it may quote the text.
    throw new TypeError('is not JSON: must be a JWK set, {"keys":[...]}');
  }
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as { keys?: unknown }).keys))
    throw new TypeError('keys: must be an array (a JWK set is {"keys":[...]})');
  const byId = new Map<string, { index: number; key: VerificationKey }>();
  (parsed as { keys: unknown[] }).keys.forEach((jwk, index) => {
    let key: VerificationKey;
    try {
      key = verificationKeyFromJwk(jwk);
    } catch (error) {
      // keys[2].crv: ... for a member at fault; keys[2]: ... for the key as a whole.
      const message = (error as Error).message;
      throw new TypeError(`keys[${index}]${/^[a-z_]+: /.test(message) ? '.' : ': '}${message}`, { cause: error });
    }
    const earlier = byId.get(key.keyId);
    // Two keys under one id: a checkpoint naming it could not say which one signed. The same key twice is harmless.
    if (earlier && !sameKey(earlier.key, key))
      throw new TypeError(`keys[${index}].kid: names keys[${earlier.index}]'s key id with a different key`);
    if (!earlier) byId.set(key.keyId, { index, key });
  });
  return [...byId.values()].map(({ key }) => key);
}

/** A coordinate: unpadded base64url of exactly 32 bytes. */
function coordinate(members: Record<string, unknown>, name: string): string {
  const value = members[name];
  if (typeof value !== 'string' || !BASE64URL.test(value) || Buffer.from(value, 'base64url').length !== COORDINATE_BYTES)
    throw new TypeError(`${name}: must be the unpadded base64url of ${COORDINATE_BYTES} bytes`);
  return value;
}

/** Node's public key of validated members; a point that is not on the curve is refused here. */
function publicKeyOf(jwk: { kty: string; crv: string; x?: string; y?: string }): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    throw new TypeError(`x: is not a point of ${jwk.crv}`);
  }
  if (!algorithmOfKey(key)) throw new TypeError(`crv: ${jwk.crv} is not a curve checkpoints are signed with`);
  return key;
}

/** A member's value for an error message: short, and never more than a name's worth of it. */
function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (typeof value !== 'string') return `a ${value === null ? 'null' : typeof value}`;
  return /^[A-Za-z0-9-]{1,20}$/.test(value) ? value : 'that value';
}
