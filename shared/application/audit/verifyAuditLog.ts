import { ChainVerifier, type VerificationReport } from '../../domain/auditVerification';
import type { ServiceDependencies } from '../dependencies';

/** What verifying needs. */
export type VerifyDependencies = Pick<ServiceDependencies, 'auditLog' | 'signingKey'>;

/**
 * Walks the whole audit log against its head and its signed checkpoints and reports where it first
 * stops fitting (see domain/auditVerification.ts). Streams the log: memory does not grow with it.
 */
export async function verifyAuditLog(deps: VerifyDependencies): Promise<VerificationReport> {
  const [head, checkpoints] = await Promise.all([deps.auditLog.head(), deps.auditLog.checkpoints()]);
  const verifier = new ChainVerifier(head, checkpoints, deps.signingKey);
  for await (const positioned of deps.auditLog.records()) verifier.add(positioned);
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
