import type { KeyObject } from 'node:crypto';
import { ChainVerifier, signCheckpoint, type AuditCheckpoint, type VerificationReport } from '../domain/auditVerification';
import type { DirectoryStore } from './ports';

/**
 * Walks the whole audit log against its head and its signed checkpoints and reports where it first
 * stops fitting (see domain/auditVerification.ts). Streams the log: memory does not grow with it.
 */
export async function verifyAuditLog(deps: { store: DirectoryStore; signingKey?: KeyObject }): Promise<VerificationReport> {
  const { head } = await deps.store.snapshot({});
  const checkpoints = await deps.store.checkpoints();
  const verifier = new ChainVerifier(head, checkpoints, deps.signingKey);
  for await (const positioned of deps.store.auditChain()) verifier.add(positioned);
  const { checkpointsChecked, ...report } = verifier.finish();
  const newest = checkpoints[0];
  return {
    ...report,
    checkpoints: {
      checked: checkpointsChecked,
      newest: newest ? { sequence: newest.sequence, time: newest.time } : null,
      signingKey: deps.signingKey ? 'configured' : 'not configured',
    },
  };
}

/**
 * Signs the current head as a checkpoint if the log grew since the newest one. Checkpoints let a
 * verifier prove the log was not rewritten from an earlier point: rewriting records recomputes their
 * hashes, and without the key no matching checkpoint can be made for them.
 */
export async function checkpointAuditLog(deps: { store: DirectoryStore; signingKey?: KeyObject; clock: { now(): Date } }): Promise<AuditCheckpoint | undefined> {
  if (!deps.signingKey) return undefined;
  const [{ head }, [newest]] = await Promise.all([deps.store.snapshot({}), deps.store.checkpoints(1)]);
  if (head.sequence === 0 || (newest && newest.sequence >= head.sequence)) return undefined;
  const checkpoint = signCheckpoint(head, deps.clock.now().toISOString(), deps.signingKey);
  await deps.store.addCheckpoint(checkpoint);
  return checkpoint;
}
