import type { CheckpointSigningKey } from './auditVerification';
import { SigningAlgorithm, signatureVerifies, type VerificationKey } from './signingKeys';

/** How much of the log a verification walks: only what was appended since the last one, or all of it. */
export const VerificationMode = { incremental: 'incremental', full: 'full' } as const;
export type VerificationMode = (typeof VerificationMode)[keyof typeof VerificationMode];

/** A position in the chain: a record's sequence and the hash it had when it was verified. */
export interface ChainPosition {
  sequence: number;
  hash: string;
}

/**
 * A signed statement that verification `id` found the log intact from its start through
 * `verifiedThrough` at `time`. The next incremental run starts from it, so it is signed like a
 * checkpoint (by the checkpoint signer) and its signature is checked before it is trusted: whoever can
 * write the table cannot forge one that moves the starting point past a rewritten stretch.
 */
export interface AuditVerificationRecord {
  id: string;
  mode: VerificationMode;
  verifiedThrough: ChainPosition;
  time: string;
  keyId: string;
  algorithm: SigningAlgorithm;
  /** Base64 signature over verificationStatement(). */
  signature: string;
}

/**
 * The exact bytes a verification record signs: its own prefix (so a checkpoint's signature can never
 * pass for a verification record's, or the reverse) and its fields as a JSON array, so no value can
 * run into the next.
 */
export function verificationStatement(record: Omit<AuditVerificationRecord, 'signature'>): Buffer {
  const fields = [
    record.keyId,
    record.algorithm,
    record.id,
    record.mode,
    record.verifiedThrough.sequence,
    record.verifiedThrough.hash,
    record.time,
  ];
  return Buffer.from(`pchat-audit-verification/v1\n${JSON.stringify(fields)}`, 'utf8');
}

/** What a verification record states, before it is signed by `key`. */
export function unsignedVerificationRecord(
  id: string,
  mode: VerificationMode,
  verifiedThrough: ChainPosition,
  time: string,
  key: CheckpointSigningKey,
): Omit<AuditVerificationRecord, 'signature'> {
  return { id, mode, verifiedThrough, time, keyId: key.keyId, algorithm: key.algorithm };
}

/** Whether `record` is signed by `key` (the key its key id names; undefined when the ring does not know it). */
export function verificationRecordHolds(record: AuditVerificationRecord, key: VerificationKey | undefined): boolean {
  if (!key || typeof record.signature !== 'string') return false;
  if (record.algorithm !== SigningAlgorithm.edDsa && record.algorithm !== SigningAlgorithm.es256) return false;
  return signatureVerifies(key, record.algorithm, verificationStatement(record), Buffer.from(record.signature, 'base64'));
}
