import { checkpointStatement, unsignedCheckpoint, type AuditCheckpoint } from '../../domain/auditVerification';
import type { ServiceDependencies } from '../dependencies';

/** What checkpointing needs. */
export type CheckpointDependencies = Pick<ServiceDependencies, 'auditLog' | 'checkpointSigner' | 'clock'>;

/**
 * Signs the current head as a checkpoint if the log grew since the newest one. Checkpoints let a
 * verifier prove the log was not rewritten from an earlier point: rewriting records recomputes their
 * hashes, and without the key no matching checkpoint can be made for them. The checkpoint names the
 * key that signed it (and signs that name too), so a verifier picks the key by id.
 */
export async function checkpointAuditLog(deps: CheckpointDependencies): Promise<AuditCheckpoint | undefined> {
  if (!deps.checkpointSigner) return undefined;
  const [head, [newest]] = await Promise.all([deps.auditLog.head(), deps.auditLog.checkpoints(1)]);
  if (head.sequence === 0 || (newest && newest.sequence >= head.sequence)) return undefined;
  const unsigned = unsignedCheckpoint(head, deps.clock.now().toISOString(), await deps.checkpointSigner.key());
  const signature = await deps.checkpointSigner.sign(checkpointStatement(unsigned));
  const checkpoint: AuditCheckpoint = { ...unsigned, signature: Buffer.from(signature).toString('base64') };
  await deps.auditLog.addCheckpoint(checkpoint);
  return checkpoint;
}
