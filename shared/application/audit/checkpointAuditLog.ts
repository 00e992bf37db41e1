import { checkpointStatement, unsignedCheckpoint, type AuditCheckpoint } from '../../domain/auditVerification';
import type { ServiceDependencies } from '../dependencies';
import { toCheckpointEvent } from '../events';
import { publishEvents } from '../publishEvents';

/** What checkpointing needs. */
export type CheckpointDependencies = Pick<
  ServiceDependencies,
  'auditLog' | 'checkpointSigner' | 'clock' | 'outbox' | 'bus' | 'log' | 'eventSource' | 'auditWitness'
>;

/**
 * Signs the current head as a checkpoint if the log grew since the newest one. Checkpoints let a
 * verifier prove the log was not rewritten from an earlier point: rewriting records recomputes their
 * hashes, and without the key no matching checkpoint can be made for them. The checkpoint names the
 * key that signed it (and signs that name too), so a verifier picks the key by id.
 *
 * The checkpoint is stored with its `pchat.audit.checkpoint.v1` event in one transaction, then the
 * event is published: every subscriber keeps a copy (a witness) that a later rewrite of the table
 * cannot reach. An event that fails to go out stays in the outbox for the re-drive (same id).
 */
export async function checkpointAuditLog(deps: CheckpointDependencies): Promise<AuditCheckpoint | undefined> {
  if (!deps.checkpointSigner) return undefined;
  const [head, [newest]] = await Promise.all([deps.auditLog.head(), deps.auditLog.checkpoints(1)]);
  if (head.sequence === 0 || (newest && newest.sequence >= head.sequence)) return undefined;
  const unsigned = unsignedCheckpoint(head, deps.clock.now().toISOString(), await deps.checkpointSigner.key());
  const signature = await deps.checkpointSigner.sign(checkpointStatement(unsigned));
  const checkpoint: AuditCheckpoint = { ...unsigned, signature: Buffer.from(signature).toString('base64') };
  const event = toCheckpointEvent(checkpoint, deps.eventSource);
  const stored = await deps.auditLog.addCheckpoint(checkpoint, { event, blob: deps.auditWitness ? 'pending' : 'off' });
  if (!stored) return undefined;
  await publishEvents(deps, [event]);
  return checkpoint;
}

/** Checkpoints copied to the blob witness per tick: a long outage is caught up over a few ticks. */
const WITNESS_BATCH = 500;

/**
 * Copies the checkpoints the blob witness still lacks to it, oldest first, and records each copy on
 * its row. A failure leaves the rest pending for the next tick; a copy written twice (a crash
 * between the append and the row's update) is harmless, the witness dedupes identical copies.
 */
export async function witnessCheckpoints(deps: Pick<ServiceDependencies, 'auditLog' | 'auditWitness' | 'clock' | 'log'>): Promise<number> {
  if (!deps.auditWitness) return 0;
  const awaiting = await deps.auditLog.checkpointsAwaitingBlob(WITNESS_BATCH);
  let written = 0;
  for (const checkpoint of awaiting) {
    try {
      await deps.auditWitness.write([checkpoint]);
      await deps.auditLog.markBlobWritten(checkpoint.sequence, deps.clock.now().toISOString());
      written++;
    } catch (error) {
      deps.log.warn('checkpoint left for the blob witness to copy on a later tick', {
        sequence: checkpoint.sequence,
        error: String(error),
      });
      break;
    }
  }
  return written;
}
