import type { AuditHead, AuditRecord } from '../../domain/audit';
import type { AuditCheckpoint, PositionedRecord } from '../../domain/auditVerification';

/** The audit log as the verifier and the checkpoint timer see it: the whole chain, its head and its signed checkpoints. */
export interface AuditLog {
  /** What the next record links to. */
  head(): Promise<AuditHead>;
  /** The whole log, newest first, each record with the position its storage gives it (streamed). */
  records(): AsyncIterable<PositionedRecord>;
  /**
   * The records at positions `from` down to `to` (inclusive), newest first: a range read of the rows
   * between them, never a scan of the rest (what an incremental verification walks).
   */
  recordsDown(from: number, to: number): AsyncIterable<PositionedRecord>;
  /** The record stored at one position (a point read), or undefined when there is none. */
  record(sequence: number): Promise<AuditRecord | undefined>;
  /** Signed checkpoints of the audit head, newest first (at most `limit`). */
  checkpoints(limit?: number): Promise<AuditCheckpoint[]>;
  /** Stores a checkpoint; one already stored for that sequence is kept. */
  addCheckpoint(checkpoint: AuditCheckpoint): Promise<void>;
}
