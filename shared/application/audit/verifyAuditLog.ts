import { ChainVerifier, type AuditCheckpoint, type CheckpointKeys, type VerificationReport } from '../../domain/auditVerification';
import type { VerificationKey } from '../../domain/signingKeys';
import type { CheckpointKeyRing } from '../ports/checkpointSigning';
import type { ServiceDependencies } from '../dependencies';

/** What verifying needs. */
export type VerifyDependencies = Pick<ServiceDependencies, 'auditLog' | 'checkpointKeys'>;

/**
 * Walks the whole audit log against its head and its signed checkpoints and reports where it first
 * stops fitting (see domain/auditVerification.ts). Streams the log: memory does not grow with it.
 */
export async function verifyAuditLog(deps: VerifyDependencies): Promise<VerificationReport> {
  const [head, checkpoints] = await Promise.all([deps.auditLog.head(), deps.auditLog.checkpoints()]);
  const keys = deps.checkpointKeys ? await keysNamedBy(checkpoints, deps.checkpointKeys) : undefined;
  const verifier = new ChainVerifier(head, checkpoints, keys);
  for await (const positioned of deps.auditLog.records()) verifier.add(positioned);
  const { checkpointsChecked, ...report } = verifier.finish();
  const newest = checkpoints[0];
  return {
    ...report,
    checkpoints: {
      checked: checkpointsChecked,
      newest: newest ? { sequence: newest.sequence, time: newest.time, keyId: newest.keyId ?? null } : null,
      signingKey: deps.checkpointKeys ? 'configured' : 'not configured',
      byKey: countByKey(checkpoints),
    },
  };
}

/** The ring's keys for every key id the checkpoints name, looked up once each (a Key Vault lookup is a request). */
export async function keysNamedBy(checkpoints: AuditCheckpoint[], ring: CheckpointKeyRing): Promise<CheckpointKeys> {
  const byId = new Map<string, VerificationKey>();
  const keyIds = new Set(checkpoints.flatMap((checkpoint) => (checkpoint.keyId === undefined ? [] : [checkpoint.keyId])));
  for (const keyId of keyIds) {
    const key = await ring.publicKey(keyId);
    if (key) byId.set(keyId, key);
  }
  return { byId, legacy: ring.legacyKey() };
}

/** How many checkpoints each key id signed, in order of first appearance (newest first); null for v1. */
export function countByKey(checkpoints: AuditCheckpoint[]): Array<{ keyId: string | null; checkpoints: number }> {
  const counts = new Map<string | null, number>();
  for (const checkpoint of checkpoints) counts.set(checkpoint.keyId ?? null, (counts.get(checkpoint.keyId ?? null) ?? 0) + 1);
  return [...counts].map(([keyId, count]) => ({ keyId, checkpoints: count }));
}
