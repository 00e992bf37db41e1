import { createPublicKey, type KeyObject } from 'node:crypto';
import { parseJwkSet } from './jwk';
import { algorithmOfKey, jwkThumbprint, type VerificationKey } from './signingKeys';

/**
 * The verify-only keys of AUDIT_VERIFY_KEYS: the public keys of retired signing keys, so the
 * checkpoints they signed keep verifying after a rotation. Either a JWK set (what GET
 * /api/audit/signing-keys answers; the form a Key Vault key version needs, its key id being a URI)
 * or PEM public keys one after another (a local key's id is its RFC 7638 thumbprint, computed here).
 * Never a private key: a verify-only place holding one would be a signing key nobody meant to keep.
 */

const PEM_LINE = /^-----(BEGIN|END) ([A-Z0-9 ]{1,40})-----$/;

/** Every key of the setting's text; throws a TypeError saying what is wrong without quoting a key. */
export function parseVerificationKeys(text: string): VerificationKey[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) return parseJwkSet(trimmed);
  if (trimmed.startsWith('-----BEGIN ')) return parsePemKeys(trimmed);
  throw new TypeError('must be a JWK set ({"keys":[...]}) or PEM public keys (-----BEGIN PUBLIC KEY-----)');
}

/** PEM public keys one after another (app settings may hold `\n` escapes for line breaks). */
function parsePemKeys(text: string): VerificationKey[] {
  const keys: VerificationKey[] = [];
  for (const [index, block] of pemBlocks(text.replace(/\\n/g, '\n')).entries()) {
    const key = verificationKeyOfPem(block, index);
    // The same key twice (its id is its thumbprint) is kept once.
    if (!keys.some((known) => known.keyId === key.keyId)) keys.push(key);
  }
  return keys;
}

/** The PEM blocks of the text, each with its label; anything between blocks but blank lines is refused. */
function pemBlocks(text: string): Array<{ label: string; pem: string }> {
  const blocks: Array<{ label: string; pem: string }> = [];
  let open: { label: string; lines: string[] } | undefined;
  for (const line of text.split(/\r?\n/).map((l) => l.trim())) {
    const marker = PEM_LINE.exec(line);
    if (!open) {
      if (line === '') continue;
      if (marker?.[1] !== 'BEGIN') throw new TypeError(`PEM key ${blocks.length + 1}: text outside a -----BEGIN ...----- block`);
      open = { label: marker[2] as string, lines: [line] };
    } else {
      open.lines.push(line);
      if (marker?.[1] === 'END') {
        if (marker[2] !== open.label) throw new TypeError(`PEM key ${blocks.length + 1}: BEGIN ${open.label} ends with END ${marker[2]}`);
        blocks.push({ label: open.label, pem: open.lines.join('\n') });
        open = undefined;
      }
    }
  }
  if (open) throw new TypeError(`PEM key ${blocks.length + 1}: BEGIN ${open.label} has no END line`);
  return blocks;
}

/** One PEM block's verification key, named by its thumbprint. */
function verificationKeyOfPem({ label, pem }: { label: string; pem: string }, index: number): VerificationKey {
  const at = `PEM key ${index + 1}`;
  // Before parsing: Node would derive the public key from a private one without a word.
  if (label.includes('PRIVATE')) throw new TypeError(`${at}: is a private key (${label}); give its public key (openssl pkey -pubout)`);
  if (label !== 'PUBLIC KEY') throw new TypeError(`${at}: must be a -----BEGIN PUBLIC KEY----- block, not ${label}`);
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw new TypeError(`${at}: is not an SPKI public key (${(error as Error).message})`, { cause: error });
  }
  const algorithm = algorithmOfKey(key);
  if (!algorithm) {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    throw new TypeError(`${at}: must be an Ed25519 or EC P-256 key, not ${String(key.asymmetricKeyType)}${curve ? ` ${curve}` : ''}`);
  }
  return { keyId: jwkThumbprint(key), algorithm, publicKey: key };
}
