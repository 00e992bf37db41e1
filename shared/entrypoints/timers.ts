import { checkpointAuditLog, witnessCheckpoints, type CheckpointDependencies } from '../application/audit/checkpointAuditLog';
import {
  advanceUntilDone,
  runningVerifications,
  type AdvanceOutcome,
  type VerificationRunDependencies,
} from '../application/audit/verificationRuns';
import { redrive, type RedriveDependencies, type RedriveReport } from '../application/redrive';
import type { AuditCheckpoint } from '../domain/auditVerification';

/**
 * The timers' entrypoints. A failure is thrown, so the host logs it; the next occurrence tries again.
 */

/** The re-drive timer's work (see application/redrive.ts); a sweep that did something is logged. */
export async function redriveTimer(deps: RedriveDependencies): Promise<RedriveReport> {
  const report = await redrive(deps);
  if (report.eventsPublished + report.requestsResent + report.requestsFailed + report.badEntries + report.idempotencyKeysPurged > 0)
    deps.log.info('re-drive', { ...report });
  return report;
}

/**
 * The checkpoint timer's work: signs the audit head if the log grew (nothing without
 * AUDIT_SIGNING_KEY or AUDIT_SIGNING_KEY_VAULT_KEY_ID) and publishes its event, then copies every
 * checkpoint the blob witness lacks to it (a failed copy is retried on the next tick).
 */
export async function auditCheckpointTimer(
  deps: CheckpointDependencies & Pick<RedriveDependencies, 'log'>,
): Promise<AuditCheckpoint | undefined> {
  const checkpoint = await checkpointAuditLog(deps);
  if (checkpoint)
    deps.log.info('audit checkpoint signed', { sequence: checkpoint.sequence, hash: checkpoint.hash, keyId: checkpoint.keyId });
  const witnessed = await witnessCheckpoints(deps);
  if (witnessed > 0) deps.log.info('audit checkpoints copied to the blob witness', { checkpoints: witnessed });
  return checkpoint;
}

/** How long one timer invocation advances verifications: inside host.json's functionTimeout (5 minutes), with room to write the last slice. */
const VERIFICATION_TIMER_BUDGET_MS = 3 * 60_000;

/**
 * The verification timer's work: advances every running verification (POST /api/audit/verifications)
 * slice by slice until each finishes or the budget is spent. Each operation is leased under its ETag,
 * so timers firing on several instances never work one operation at once; one whose instance crashed
 * is taken up again once its lease expires.
 */
export async function auditVerificationTimer(
  deps: VerificationRunDependencies & Pick<RedriveDependencies, 'log'>,
  budgetMs: number = VERIFICATION_TIMER_BUDGET_MS,
): Promise<Record<string, AdvanceOutcome>> {
  const until = deps.clock.now().getTime() + budgetMs;
  const owner = `timer-${deps.ids.next()}`;
  const outcomes: Record<string, AdvanceOutcome> = {};
  for (const id of await runningVerifications(deps)) {
    if (deps.clock.now().getTime() >= until) break;
    outcomes[id] = await advanceUntilDone(deps, id, owner, until);
    deps.log.info('audit verification advanced', { verificationId: id, outcome: outcomes[id] });
  }
  return outcomes;
}
