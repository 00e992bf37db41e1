import {
  ChangeRequestStatus,
  type ChangeRequest,
  type ChangeRequestBody,
  type ChangeRequestChannel,
  type ValidChangeRequest,
} from '../../domain/changeRequest';
import { ErrorCode, InvariantError } from '../../domain/errors';
import { decideAndCommit, type CommitDependencies, type Decided, type Plan } from '../decideAndCommit';
import type { ServiceDependencies } from '../dependencies';
import type { DirectorySnapshot } from '../ports/directory';
import type { IdGenerator } from '../ports/system';
import type { TraceContext } from '../../domain/traceContext';
import { admissionOptions, admit, type AdmissionDependencies } from './admission';
import { acceptedRecord, auditDraftFor, decideRequest, reasonOf, readsForRequest, rejectionAction, settledAs } from './settlement';

/** What applying needs. */
export type ApplyDependencies = CommitDependencies & AdmissionDependencies & Pick<ServiceDependencies, 'queries' | 'ids' | 'tracing'>;

/** A change request as it arrives on a queue, decoded from its message. */
export interface QueuedChangeRequest {
  changeRequestId: string;
  request: ChangeRequestBody;
  /** The queue's identity (`queue:<name>`): the sender is whoever may send to it. */
  actor: string;
  /** The message's own `actor` field: whom the sender claims to act for. */
  onBehalfOf?: string;
  correlationId: string;
  /** The message's W3C trace, when it carried a valid one. */
  traceContext?: TraceContext;
  channel: ChangeRequestChannel;
  /**
   * Whether the message named its change request (admission over HTTP and the re-driver always do):
   * then it was most likely admitted already, and nothing is read before the writer's turn.
   */
  requestNamed?: boolean;
}

/** What one step of settling a waiting list did. */
type SettleStep =
  /** The request was never admitted: there is nothing to settle. */
  | { kind: 'not-admitted' }
  /** The request is settled, by this step or an earlier one: here is its final record. */
  | { kind: 'settled'; changeRequest: ChangeRequest }
  /** A request ahead of it in its waiting list was settled; the next step looks again. */
  | { kind: 'settled-one-ahead' }
  /** The message named another address than the request was admitted with; the admitted one wins. */
  | { kind: 'admitted-with'; request: ChangeRequestBody };

/** The record of a queued request, as admission first records it. */
export function queuedRecord(command: QueuedChangeRequest, acceptedAt: string): ValidChangeRequest {
  const { changeRequestId: id, request, actor, onBehalfOf, correlationId, traceContext, channel } = command;
  return acceptedRecord({
    id,
    request,
    actor,
    ...(onBehalfOf === undefined ? {} : { onBehalfOf }),
    correlationId,
    ...(traceContext === undefined ? {} : { traceContext }),
    channel,
    acceptedAt,
  });
}

/** Decides a waiting request on a snapshot: the plan that settles it (applied or rejected) and its final record. */
function settleWaiting(
  ids: IdGenerator,
  waiting: ValidChangeRequest,
  snapshot: DirectorySnapshot,
  now: Date,
): { plan: Plan; settled: ChangeRequest } {
  const { request } = waiting;
  const decision = decideRequest(request, snapshot, now.toISOString(), waiting.id);
  if (decision.outcome === 'unchanged') throw new InvariantError(ErrorCode.invariantBroken, 'endpoint changes are never idempotent no-ops');
  if (decision.outcome === 'rejected') {
    const settled = settledAs(waiting, ChangeRequestStatus.rejected, reasonOf(decision), snapshot, now);
    const holder = snapshot.holders.get(request.sipAddress) ?? null;
    const outcome = { status: 'rejected' as const, code: decision.code, message: decision.message };
    const audit = auditDraftFor(ids, waiting, {
      action: rejectionAction(request),
      subject: request.sipAddress,
      outcome,
      before: holder,
      after: holder,
    });
    return { plan: { writes: [], changeRequests: [settled], audit: [audit] }, settled };
  }
  const settled = settledAs(waiting, ChangeRequestStatus.applied, null, snapshot, now);
  const audit = auditDraftFor(ids, waiting, {
    action: decision.action,
    subject: decision.subject,
    outcome: { status: 'applied' },
    before: decision.before,
    after: decision.after,
  });
  return { plan: { writes: decision.writes, changeRequests: [settled], audit: [audit] }, settled };
}

/** The next step for request `id`, whose message named `request`: a pure decision on one snapshot. */
function nextSettleStep(
  ids: IdGenerator,
  id: string,
  request: ChangeRequestBody,
  snapshot: DirectorySnapshot,
  now: Date,
): Decided<SettleStep> {
  const current = snapshot.changeRequests.get(id);
  if (current === undefined) return { plan: null, result: { kind: 'not-admitted' } };
  if (current.status !== ChangeRequestStatus.accepted || current.request === null)
    return { plan: null, result: { kind: 'settled', changeRequest: current } };
  if (current.request.sipAddress !== request.sipAddress) return { plan: null, result: { kind: 'admitted-with', request: current.request } };
  // A request accepted before waiting lists existed holds no ticket and is settled on its own.
  const next: ValidChangeRequest | undefined =
    current.ticket === null ? { ...current, request: current.request } : snapshot.nextWaiting.get(request.sipAddress);
  if (!next)
    throw new InvariantError(
      ErrorCode.invariantBroken,
      `change request ${id} holds ticket ${current.ticket} but no request waits in its list`,
    );
  const { plan, settled } = settleWaiting(ids, next, snapshot, now);
  return { plan, result: next.id === id ? { kind: 'settled', changeRequest: settled } : { kind: 'settled-one-ahead' } };
}

/**
 * Settles the requests in the waiting list of `command`'s address up to and including its own,
 * lowest ticket first, one commit each. So changes to one address take effect in the order they
 * were accepted, whatever order their messages arrive in: a message that overtakes an earlier one
 * settles the earlier one first, and the earlier message, when it comes, finds its request settled.
 * Returns undefined if the request was never admitted.
 */
async function settleInOrder(deps: ApplyDependencies, command: QueuedChangeRequest): Promise<ChangeRequest | undefined> {
  const id = command.changeRequestId;
  let reading = command.request;
  for (;;) {
    const request = reading;
    const reads = readsForRequest(request, { changeRequestId: id, waitingList: true });
    const { result: step } = await decideAndCommit(deps, reads, (snapshot, now) => nextSettleStep(deps.ids, id, request, snapshot, now));
    switch (step.kind) {
      case 'not-admitted':
        return undefined;
      case 'settled':
        return step.changeRequest;
      case 'settled-one-ahead':
        break;
      case 'admitted-with':
        reading = step.request;
        break;
    }
  }
}

/**
 * Applies a queued create or delete: enforces every rule, then commits the endpoint change (or the
 * rejection), the request's final status, its audit record and its event together, in the order
 * the address's requests were accepted. A request that is already settled is left alone, so
 * redelivered and re-driven messages change nothing. A request already admitted (over HTTP, with
 * the authenticated principal as its actor) keeps its record: the message's fields never replace it.
 */
export async function applyChangeRequest(deps: ApplyDependencies, command: QueuedChangeRequest): Promise<ChangeRequest> {
  // A request straight from automation is admitted before it waits for the directory's writer:
  // until then, a worker that dies holding it leaves no record (only the message, which may be
  // poisoned), so its record is read first and alone. Once admitted it is first in its waiting
  // list, as a rule, and the decision reads it from there. A message that names its request was
  // admitted by whoever sent it, as a rule; should it not have been, settling finds no record,
  // and it is admitted then.
  if (!command.requestNamed && !(await isAdmitted(deps, command.changeRequestId))) await admitQueued(deps, command);
  let settled = await settleInOrder(deps, command);
  if (settled === undefined) {
    // Named but never admitted (automation may name its own requests): admitted now, then settled.
    await admitQueued(deps, command);
    settled = await settleInOrder(deps, command);
  }
  if (!settled)
    throw new InvariantError(ErrorCode.invariantBroken, `change request ${command.changeRequestId} was admitted but cannot be read back`);
  return settled;
}

/**
 * Whether a request was admitted: one read of its record, nothing before it (a worker just started
 * would otherwise read the head first), so admission is as early as it can be.
 */
async function isAdmitted(deps: ApplyDependencies, changeRequestId: string): Promise<boolean> {
  return (await deps.queries.changeRequest(changeRequestId)) !== undefined;
}

/** Admits a request from a queue message, as its first record. */
async function admitQueued(deps: ApplyDependencies, command: QueuedChangeRequest): Promise<void> {
  const now = deps.clock.now();
  // A message without a (valid) trace starts one here, as a submission without a traceparent does.
  const traced = { ...command, traceContext: deps.tracing.contextFor(command.traceContext) };
  await admit(deps, queuedRecord(traced, now.toISOString()), admissionOptions(deps, now));
}
