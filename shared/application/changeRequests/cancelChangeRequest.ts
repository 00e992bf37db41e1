import { AuditAction } from '../../domain/audit';
import { ChangeRequestStatus, type ChangeRequest } from '../../domain/changeRequest';
import { CANCELED_CODE } from '../../domain/codes';
import { ConflictError, ErrorCode, NotFoundError } from '../../domain/errors';
import { decideAndCommit, type CommitDependencies, type Decided } from '../decideAndCommit';
import type { ServiceDependencies } from '../dependencies';
import type { DirectorySnapshot } from '../ports/directory';
import type { IdGenerator } from '../ports/system';
import { settledAs } from './settlement';

/** What canceling needs. */
export type CancelDependencies = CommitDependencies & Pick<ServiceDependencies, 'ids'>;

/** Who cancels: the principal, and whether it may cancel only the requests it submitted itself. */
export interface Canceler {
  name: string;
  ownOnly: boolean;
}

/** How a cancel ended on one snapshot. */
type CancelOutcome =
  { kind: 'canceled'; changeRequest: ChangeRequest } | { kind: 'not-found' } | { kind: 'settled'; changeRequest: ChangeRequest };

/** Whether the canceler may see the request at all: a submitter only its own HTTP submissions (as for reading it). */
function mayCancel(canceler: Canceler, request: ChangeRequest): boolean {
  return !canceler.ownOnly || (request.channel === 'http' && request.actor === canceler.name);
}

/** The pure decision: settle an accepted request as canceled, audited under the canceler's name; anything else is left alone. */
function decideCancel(ids: IdGenerator, id: string, canceler: Canceler, snapshot: DirectorySnapshot, now: Date): Decided<CancelOutcome> {
  const current = snapshot.changeRequests.get(id);
  if (current === undefined || !mayCancel(canceler, current)) return { plan: null, result: { kind: 'not-found' } };
  if (current.status !== ChangeRequestStatus.accepted) return { plan: null, result: { kind: 'settled', changeRequest: current } };
  const reason = { code: CANCELED_CODE, message: `canceled by ${canceler.name} before it was applied` };
  const canceled = settledAs(current, ChangeRequestStatus.canceled, reason, snapshot, now);
  const audit = {
    id: ids.next(),
    // The one who canceled is accountable for the cancel, which need not be who submitted the request.
    actor: canceler.name,
    action: AuditAction.changeRequestCanceled,
    subject: current.request?.sipAddress ?? `change-request:${current.id}`,
    changeRequestId: current.id,
    correlationId: current.correlationId,
    causationId: current.id,
    outcome: { status: 'applied' as const },
    before: { status: ChangeRequestStatus.accepted },
    after: { status: ChangeRequestStatus.canceled },
  };
  return { plan: { writes: [], changeRequests: [canceled], audit: [audit] }, result: { kind: 'canceled', changeRequest: canceled } };
}

/**
 * Settles a request that is still `accepted` as `canceled`, in one commit guarded like every other:
 * its status, its leaving its address's waiting list (so the requests after it go on), its audit
 * record and its event. Its message, when it comes, finds it settled and changes nothing.
 * NotFoundError when unknown (or another's, for a submitter); ConflictError with the `changeRequestStatus` when settled.
 */
export async function cancelChangeRequest(deps: CancelDependencies, id: string, canceler: Canceler): Promise<ChangeRequest> {
  const { result } = await decideAndCommit(deps, { changeRequests: [id] }, (snapshot, now) =>
    decideCancel(deps.ids, id, canceler, snapshot, now),
  );
  switch (result.kind) {
    case 'canceled':
      return result.changeRequest;
    case 'not-found':
      throw new NotFoundError(ErrorCode.changeRequestNotFound, `no change request has the id ${id}`);
    case 'settled':
      throw new ConflictError(ErrorCode.changeRequestSettled, `the change request is already ${result.changeRequest.status}`, {
        extensions: { changeRequestStatus: result.changeRequest.status },
      });
  }
}
