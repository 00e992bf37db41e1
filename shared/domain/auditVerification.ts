import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { GENESIS_HEAD, hashAuditRecord, type AuditHead, type AuditRecord } from './audit';

/** How a log can fail to be the one that was written. */
export const BreakKind = {
  /** A record's content no longer hashes to its own hash: it was edited. */
  contentAltered: 'content_altered',
  /** A record's previousHash is not its predecessor's hash. */
  linkBroken: 'link_broken',
  /** Sequence numbers are missing: records were deleted. */
  recordMissing: 'record_missing',
  /** The record stored at a position carries another sequence number: records were moved. */
  outOfOrder: 'out_of_order',
  /** The head (what the next record links to) disagrees with the newest record. */
  headMismatch: 'head_mismatch',
  /** A signed checkpoint names a different hash for its record: the log was rewritten from an earlier point. */
  checkpointMismatch: 'checkpoint_mismatch',
  /** A checkpoint's signature does not verify with the configured key. */
  checkpointForged: 'checkpoint_forged',
} as const;
export type BreakKind = (typeof BreakKind)[keyof typeof BreakKind];

/** One place where the log does not fit. */
export interface ChainBreak {
  sequence: number;
  kind: BreakKind;
  detail: string;
}

/** A signed statement that the log had `sequence` records ending in `hash` at `time`. */
export interface AuditCheckpoint {
  sequence: number;
  hash: string;
  time: string;
  /** Base64 Ed25519 signature over checkpointStatement(). */
  signature: string;
}

/** What the verifier found. */
export interface VerificationReport {
  intact: boolean;
  recordsChecked: number;
  head: AuditHead;
  /** The break with the lowest sequence number: where the log stops being trustworthy. */
  firstBreak: ChainBreak | null;
  /** Every break found, lowest sequence first (at most MAX_REPORTED_BREAKS). */
  breaks: ChainBreak[];
  checkpoints: { checked: number; newest: { sequence: number; time: string } | null; signingKey: 'configured' | 'not configured' };
}

const MAX_REPORTED_BREAKS = 50;

/** The exact bytes a checkpoint signs. */
export function checkpointStatement(checkpoint: Omit<AuditCheckpoint, 'signature'>): Buffer {
  return Buffer.from(`pchat-audit-checkpoint/v1\n${checkpoint.sequence}\n${checkpoint.hash}\n${checkpoint.time}`, 'utf8');
}

/** Signs the head of the log with an Ed25519 private key. */
export function signCheckpoint(head: AuditHead, time: string, privateKey: KeyObject): AuditCheckpoint {
  const unsigned = { sequence: head.sequence, hash: head.hash, time };
  return { ...unsigned, signature: sign(null, checkpointStatement(unsigned), privateKey).toString('base64') };
}

/** Whether a checkpoint was signed by the holder of the key (a private key verifies through its public half). */
export function checkpointSignedBy(checkpoint: AuditCheckpoint, key: KeyObject): boolean {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  try {
    return verify(null, checkpointStatement(checkpoint), publicKey, Buffer.from(checkpoint.signature, 'base64'));
  } catch {
    return false;
  }
}

/** A stored record and the position its storage key gives it. */
export interface PositionedRecord {
  position: number;
  record: AuditRecord;
}

/**
 * Checks a log walked newest first, one record at a time, in constant memory (plus the checkpoints):
 * every record hashes to its hash, links to the one before it, sits at its own position, none is
 * missing, the head matches the newest, and every checkpoint is genuine and names its record's hash.
 */
export class ChainVerifier {
  private readonly found: ChainBreak[] = [];
  private expected: number;
  private newer: PositionedRecord | undefined;
  private checked = 0;
  private readonly checkpointsBySequence: Map<number, AuditCheckpoint>;

  constructor(
    private readonly head: AuditHead,
    private readonly checkpoints: AuditCheckpoint[],
    private readonly key: KeyObject | undefined,
  ) {
    this.expected = head.sequence;
    this.checkpointsBySequence = new Map(checkpoints.map((checkpoint) => [checkpoint.sequence, checkpoint]));
    if (key) {
      for (const checkpoint of checkpoints) {
        if (!checkpointSignedBy(checkpoint, key))
          this.report(
            checkpoint.sequence,
            BreakKind.checkpointForged,
            `the checkpoint at record ${checkpoint.sequence} is not signed by the configured key`,
          );
      }
    }
  }

  /** The next record, newest first. Records appended after the head was read are not this check's business. */
  add({ position, record }: PositionedRecord): void {
    if (position > this.head.sequence) return;
    this.checked++;
    if (this.newer === undefined && (position !== this.head.sequence || record.hash !== this.head.hash)) {
      this.report(
        position,
        BreakKind.headMismatch,
        `the head names record ${this.head.sequence} (${this.head.hash.slice(0, 12)}…), the newest stored record is ${position} (${record.hash.slice(0, 12)}…)`,
      );
    }
    if (position < this.expected) this.reportMissing(position + 1, this.expected);
    if (record.sequence !== position) this.report(position, BreakKind.outOfOrder, `position ${position} holds record ${record.sequence}`);
    const { hash, ...content } = record;
    if (hashAuditRecord(content) !== hash)
      this.report(position, BreakKind.contentAltered, `record ${position}'s content does not hash to its hash`);
    if (this.newer && this.newer.position === position + 1 && this.newer.record.previousHash !== hash) {
      this.report(this.newer.position, BreakKind.linkBroken, `record ${this.newer.position} does not link to record ${position}`);
    }
    const checkpoint = this.checkpointsBySequence.get(position);
    if (checkpoint && checkpoint.hash !== hash) {
      this.report(
        position,
        BreakKind.checkpointMismatch,
        `the checkpoint of ${checkpoint.time} signed record ${position} as ${checkpoint.hash.slice(0, 12)}…; it is now ${hash.slice(0, 12)}…`,
      );
    }
    this.newer = { position, record };
    this.expected = position - 1;
  }

  /** The report, once every record has been added. */
  finish(): Omit<VerificationReport, 'checkpoints'> & { checkpointsChecked: number } {
    if (this.expected > 0) this.reportMissing(1, this.expected);
    if (this.newer?.position === 1 && this.newer.record.previousHash !== GENESIS_HEAD.hash) {
      this.report(1, BreakKind.linkBroken, 'record 1 does not link to the start of the log');
    }
    for (const checkpoint of this.checkpoints) {
      if (checkpoint.sequence > this.head.sequence)
        this.report(
          checkpoint.sequence,
          BreakKind.checkpointMismatch,
          `a checkpoint signed record ${checkpoint.sequence}, beyond the head ${this.head.sequence}: the log was cut back`,
        );
    }
    const breaks = [...this.found].sort((a, b) => a.sequence - b.sequence);
    return {
      intact: breaks.length === 0,
      recordsChecked: this.checked,
      head: this.head,
      firstBreak: breaks[0] ?? null,
      breaks: breaks.slice(0, MAX_REPORTED_BREAKS),
      checkpointsChecked: this.checkpoints.length,
    };
  }

  private reportMissing(from: number, to: number): void {
    this.report(from, BreakKind.recordMissing, from === to ? `record ${from} is missing` : `records ${from}-${to} are missing`);
  }

  private report(sequence: number, kind: BreakKind, detail: string): void {
    this.found.push({ sequence, kind, detail });
    // A log broken everywhere must not fill memory: only the lowest breaks are reported.
    if (this.found.length > 2 * MAX_REPORTED_BREAKS) {
      this.found.sort((a, b) => a.sequence - b.sequence);
      this.found.length = MAX_REPORTED_BREAKS;
    }
  }
}
