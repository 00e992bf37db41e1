import { AuditAction } from '../../domain/audit';
import { ChangeRequestStatus, type ChangeRequest, type ChangeRequestReason } from '../../domain/changeRequest';
import { decideAndCommit, type CommitDependencies } from '../decideAndCommit';
import type { ServiceDependencies } from '../dependencies';
import { queuedRecord, type QueuedChangeRequest } from './applyChangeRequest';
import { auditDraftFor, settledAs } from './settlement';
import type { FailureCode, RejectionCode } from '../../domain/codes';

/** What failing a request needs. */
export type FailDependencies = CommitDependencies & Pick<ServiceDependencies, 'ids'>;

/**
 * Settles an accepted request as failed, with the reason, audited; a settled request is left alone.
 * A queued request that never got as far as being admitted is recorded, failed, from `unadmitted`.
 */
export async function failChangeRequest(
  deps: FailDependencies,
  changeRequestId: string,
  reason: ChangeRequestReason & { code: FailureCode | RejectionCode },
  unadmitted?: QueuedChangeRequest,
): Promise<ChangeRequest | undefined> {
  const { result } = await decideAndCommit(deps, { changeRequests: [changeRequestId] }, (snapshot, now) => {
    const existing = snapshot.changeRequests.get(changeRequestId) ?? (unadmitted ? queuedRecord(unadmitted, now.toISOString()) : undefined);
    if (!existing || existing.status !== ChangeRequestStatus.accepted) return { plan: null, result: existing };
    const failed = settledAs(existing, ChangeRequestStatus.failed, reason, snapshot, now);
    const audit = auditDraftFor(deps.ids, existing, {
      action: AuditAction.changeRequestFailed,
      subject: existing.request?.sipAddress ?? `change-request:${existing.id}`,
      outcome: { status: 'failed', code: reason.code, message: reason.message },
      before: null,
      after: null,
    });
    return { plan: { writes: [], changeRequests: [failed], audit: [audit] }, result: failed };
  });
  return result;
}
