import type { AuditCheckpoint } from '../../domain/auditVerification';

/**
 * A copy of the signed checkpoints kept outside the table they vouch for (in Azure, a Blob container
 * under a time-based immutability policy), so deleting or rewriting a checkpoint row is detectable.
 */
export interface AuditWitness {
  /** Appends copies of checkpoints, in the order given; a copy already kept is harmless (read dedupes). */
  write(checkpoints: AuditCheckpoint[]): Promise<void>;
  /** Every distinct checkpoint the witness holds, in no particular order. */
  read(): Promise<AuditCheckpoint[]>;
}
