import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * An audit verifier written only from the README's "Verifying the audit log yourself", as an
 * outside auditor would write it: it imports nothing but node:crypto and node:fs (ESLint refuses
 * anything else in this file, and its test reads this source to check). If the service ever
 * hashes or signs differently from what the README says, this verifier and the service disagree.
 */

type Json = null | boolean | number | string | Json[] | { [name: string]: Json };

/** The README's canonical JSON. */
export function canonical(value: Json): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const names = Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${names.map((name) => `${JSON.stringify(name)}:${canonical(value[name] as Json)}`).join(',')}}`;
}

/** SHA-256 of a record without its hash member, over the UTF-8 of its canonical JSON, in lowercase hex. */
export function recordHash(record: { [name: string]: Json }): string {
  const content = { ...record };
  delete content.hash;
  return createHash('sha256')
    .update(Buffer.from(canonical(content), 'utf8'))
    .digest('hex');
}

interface Checkpoint {
  sequence: number;
  hash: string;
  time: string;
  keyId?: string;
  algorithm?: string;
  signature: string;
}

/** The statement a checkpoint signs: v2 with a key id, v1 without. */
export function statement(c: Checkpoint): Buffer {
  if (c.keyId === undefined) return Buffer.from(`pchat-audit-checkpoint/v1\n${c.sequence}\n${c.hash}\n${c.time}`, 'utf8');
  return Buffer.from(`pchat-audit-checkpoint/v2\n${JSON.stringify([c.keyId, c.algorithm, c.sequence, c.hash, c.time])}`, 'utf8');
}

interface Key {
  kid: string;
  alg: 'EdDSA' | 'ES256';
  key: KeyObject;
}

/** The JWK set's keys: OKP/Ed25519 is EdDSA, EC/P-256 is ES256. */
export function keysOf(set: { keys: Array<Record<string, string>> }): Key[] {
  return set.keys.map((jwk) => {
    const alg = jwk.kty === 'OKP' && jwk.crv === 'Ed25519' ? 'EdDSA' : jwk.kty === 'EC' && jwk.crv === 'P-256' ? 'ES256' : undefined;
    if (!alg || jwk.alg !== alg) throw new Error(`key ${jwk.kid}: not an Ed25519 or P-256 signing key`);
    const key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, ...(jwk.y ? { y: jwk.y } : {}) }, format: 'jwk' });
    return { kid: jwk.kid as string, alg, key };
  });
}

/** Whether the signature holds: EdDSA over the statement; ES256 ECDSA P-256 SHA-256, r || s. */
function signed(c: Checkpoint, key: Key): boolean {
  const signature = Buffer.from(c.signature, 'base64');
  if (key.alg === 'EdDSA') return verify(null, statement(c), key.key, signature);
  return verify('sha256', statement(c), { key: key.key, dsaEncoding: 'ieee-p1363' }, signature);
}

/** Whether the checkpoint is signed by a key of the set (v2: the one whose kid is its keyId; v1: any Ed25519 key). */
export function checkpointHolds(c: Checkpoint, keys: Key[]): boolean {
  if (c.keyId === undefined) return keys.some((key) => key.alg === 'EdDSA' && signed(c, key));
  const key = keys.find((k) => k.kid === c.keyId);
  return key !== undefined && key.alg === c.algorithm && signed(c, key);
}

/** One problem found, by the record (or checkpoint) sequence it concerns. */
export interface Problem {
  sequence: number;
  what: string;
}

/**
 * Checks an export (NDJSON text, newest first), checkpoint lines (checkpoints or their CloudEvents)
 * and a JWK set: each record's hash, the links, contiguity, record 1's link to genesis, each
 * checkpoint's signature and its record's hash.
 */
export function verifyExport(exportText: string, checkpointText: string, keysText: string): Problem[] {
  const problems: Problem[] = [];
  const lines = exportText.split('\n').filter((line) => line !== '');
  const records = lines.map((line) => JSON.parse(line) as { [name: string]: Json }).filter((r) => r.action !== 'export.truncated');
  const checkpoints = checkpointText
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Checkpoint & { type?: string; data?: Checkpoint })
    .map((value) => (value.type === 'pchat.audit.checkpoint.v1' ? (value.data as Checkpoint) : value));
  const keys = keysOf(JSON.parse(keysText) as { keys: Array<Record<string, string>> });
  const bySequence = new Map<number, { [name: string]: Json }>();
  for (const record of records) {
    const sequence = record.sequence as number;
    bySequence.set(sequence, record);
    if (recordHash(record) !== record.hash) problems.push({ sequence, what: 'content does not hash to its hash' });
  }
  const sequences = [...bySequence.keys()].sort((a, b) => a - b);
  for (const [i, sequence] of sequences.entries()) {
    const record = bySequence.get(sequence) as { [name: string]: Json };
    const before = sequences[i - 1];
    if (before === undefined) {
      if (sequence === 1 && record.previousHash !== '0'.repeat(64)) problems.push({ sequence, what: 'record 1 does not link to genesis' });
    } else if (before !== sequence - 1) {
      problems.push({ sequence: before + 1, what: 'records missing' });
    } else if (record.previousHash !== bySequence.get(before)?.hash) {
      problems.push({ sequence, what: 'does not link to the record before it' });
    }
  }
  for (const c of checkpoints) {
    const { sequence, hash, time, keyId, algorithm, signature } = c;
    const checkpoint: Checkpoint =
      keyId === undefined ? { sequence, hash, time, signature } : { sequence, hash, time, keyId, algorithm, signature };
    if (!checkpointHolds(checkpoint, keys)) problems.push({ sequence, what: 'checkpoint signature does not hold' });
    const record = bySequence.get(sequence);
    if (record && record.hash !== hash) problems.push({ sequence, what: 'checkpoint names another hash' });
  }
  return problems.sort((a, b) => a.sequence - b.sequence);
}

/** The same, from files. */
export function verifyExportFiles(exportFile: string, checkpointsFile: string, keysFile: string): Problem[] {
  return verifyExport(readFileSync(exportFile, 'utf8'), readFileSync(checkpointsFile, 'utf8'), readFileSync(keysFile, 'utf8'));
}
