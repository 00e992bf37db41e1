import type { AuditHead, AuditRecord } from '../../domain/audit';
import type { AuditCheckpoint, PositionedRecord } from '../../domain/auditVerification';
import type { CloudEvent } from '../events';

/** Whether the blob witness holds a copy of a checkpoint: `off` when none was configured as it was signed. */
export type BlobWitnessStatus = 'written' | 'pending' | 'off';

/** A stored checkpoint and what its witnesses have of it. */
export interface WitnessedCheckpoint {
  checkpoint: AuditCheckpoint;
  /** `pending` while its event waits in the outbox (a re-drive publishes it), else `published`. */
  event: 'published' | 'pending';
  blob: BlobWitnessStatus;
}

/** A page of checkpoints, newest first, and where the next one starts (null: no more). */
export interface CheckpointPage {
  items: WitnessedCheckpoint[];
  nextCursor: string | null;
}

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
  /**
   * Stores a checkpoint; one already stored for that sequence is kept (false). With `event`, the
   * checkpoint and its event's outbox row are written in one transaction: both or neither.
   * `blob` is the blob witness's status to start with (`pending` when one is configured).
   */
  addCheckpoint(checkpoint: AuditCheckpoint, options?: { event?: CloudEvent; blob?: BlobWitnessStatus }): Promise<boolean>;
  /** Checkpoints with their witness status, newest first, `limit` from `cursor` (a cursor a page gave). */
  checkpointPage(limit: number, cursor?: string): Promise<CheckpointPage>;
  /** The checkpoints the blob witness still lacks, oldest first (the newest run of `pending` ones; at most `limit`). */
  checkpointsAwaitingBlob(limit: number): Promise<AuditCheckpoint[]>;
  /** Records that the blob witness now holds a copy of the checkpoint at `sequence`, and when. */
  markBlobWritten(sequence: number, at: string): Promise<void>;
}
