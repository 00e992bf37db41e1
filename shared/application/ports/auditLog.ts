import type { AuditHead } from '../../domain/audit';
import type { AuditCheckpoint, PositionedRecord } from '../../domain/auditVerification';

/** The audit log as the verifier and the checkpoint timer see it: the whole chain, its head and its signed checkpoints. */
export interface AuditLog {
  /** What the next record links to. */
  head(): Promise<AuditHead>;
  /** The whole log, newest first, each record with the position its storage gives it (streamed). */
  records(): AsyncIterable<PositionedRecord>;
  /** Signed checkpoints of the audit head, newest first (at most `limit`). */
  checkpoints(limit?: number): Promise<AuditCheckpoint[]>;
  /** Stores a checkpoint; one already stored for that sequence is kept. */
  addCheckpoint(checkpoint: AuditCheckpoint): Promise<void>;
}
