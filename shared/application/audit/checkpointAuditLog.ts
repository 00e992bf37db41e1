import { signCheckpoint, type AuditCheckpoint } from '../../domain/auditVerification';
import type { ServiceDependencies } from '../dependencies';

/** What checkpointing needs. */
export type CheckpointDependencies = Pick<ServiceDependencies, 'auditLog' | 'signingKey' | 'clock'>;

/**
 * Signs the current head as a checkpoint if the log grew since the newest one. Checkpoints let a
 * verifier prove the log was not rewritten from an earlier point: rewriting records recomputes their
 * hashes, and without the key no matching checkpoint can be made for them.
 */
export async function checkpointAuditLog(deps: CheckpointDependencies): Promise<AuditCheckpoint | undefined> {
  if (!deps.signingKey) return undefined;
  const [head, [newest]] = await Promise.all([deps.auditLog.head(), deps.auditLog.checkpoints(1)]);
  if (head.sequence === 0 || (newest && newest.sequence >= head.sequence)) return undefined;
  const checkpoint = signCheckpoint(head, deps.clock.now().toISOString(), deps.signingKey);
  await deps.auditLog.addCheckpoint(checkpoint);
  return checkpoint;
}
