import { AuditAction, type AuditDraft } from '../domain/audit';
import {
  ChangeRequestStatus, RejectionCode,
  type ChangeRequest, type ChangeRequestBody, type ChangeRequestChannel, type ChangeRequestReason,
} from '../domain/changeRequest';
import { UnavailableError, type FieldError } from '../domain/errors';
import { decideCreate, decideDelete, type Decision, type Rejected } from '../domain/rules';
import { commitDecision, queryFor, viewOf, type Dependencies, type Plan } from './commitDecision';
import { changeRequestMessage, destinationFor } from './messages';
import type { DirectorySnapshot } from './ports';

/** Who submitted a request and how to tie its records together. */
export interface Submission {
  request: ChangeRequestBody;
  actor: string;
  correlationId: string;
}

/** What a dry run predicts: the outcome the request would have if applied now. */
export interface Prediction {
  outcome: 'applied' | 'rejected';
  reason: ChangeRequestReason | null;
  before: unknown;
  after: unknown;
}

function decide(request: ChangeRequestBody, snapshot: DirectorySnapshot, now: string, changeRequestId: string | null): Decision {
  const view = viewOf(snapshot);
  return request.operation === 'create' ? decideCreate(request, view, { now, changeRequestId }) : decideDelete(request, view);
}

/** The reason a rule gives for refusing a request, with the field it is about. */
function reasonOf(decision: Rejected): ChangeRequestReason {
  return { code: decision.code, message: decision.message, errors: [{ pointer: `#${decision.pointer}`, detail: decision.message }] };
}

/**
 * A request in its final status. Each settling commit appends exactly one audit record right after
 * the snapshot's head, so the sequence of the record that settles it is known before the commit.
 */
function settledAs(request: ChangeRequest, status: ChangeRequestStatus, reason: ChangeRequestReason | null, snapshot: DirectorySnapshot, now: Date): ChangeRequest {
  return { ...request, status, reason, completedAt: now.toISOString(), auditSequence: snapshot.head.sequence + 1 };
}

function rejectionAction(request: ChangeRequestBody): AuditAction {
  return request.operation === 'create' ? AuditAction.endpointCreateRejected : AuditAction.endpointDeleteRejected;
}

/** Predicts a request's outcome against the current directory; writes nothing. */
export async function predictChangeRequest(deps: Dependencies, request: ChangeRequestBody): Promise<Prediction> {
  const snapshot = await deps.store.snapshot(queryFor(request.sipAddress, request.operation === 'create' ? request.poolFqdn : undefined));
  const decision = decide(request, snapshot, deps.clock.now().toISOString(), null);
  if (decision.outcome === 'rejected') {
    const holder = snapshot.holders.get(request.sipAddress) ?? null;
    return { outcome: 'rejected', reason: reasonOf(decision), before: holder, after: holder };
  }
  if (decision.outcome === 'unchanged') return { outcome: 'applied', reason: null, before: decision.current, after: decision.current };
  return { outcome: 'applied', reason: null, before: decision.before, after: decision.after };
}

/**
 * Accepts a change request: records it as `accepted`, then queues it for the create or delete
 * worker. If the queue cannot take it, the request is settled as `failed` (audited) and the caller
 * gets UnavailableError; a request is never left accepted with no message to carry it.
 */
export async function submitChangeRequest(deps: Dependencies, submission: Submission): Promise<ChangeRequest> {
  const changeRequest: ChangeRequest & { request: ChangeRequestBody } = {
    id: deps.ids.next(),
    status: ChangeRequestStatus.accepted,
    request: submission.request,
    reason: null,
    actor: submission.actor,
    correlationId: submission.correlationId,
    channel: 'http',
    acceptedAt: deps.clock.now().toISOString(),
    completedAt: null,
    auditSequence: null,
  };
  await deps.store.createChangeRequest(changeRequest);
  try {
    await deps.bus.send(destinationFor(changeRequest.request.operation), changeRequestMessage(changeRequest));
  } catch (error) {
    deps.log.warn('could not queue change request', { changeRequestId: changeRequest.id, error: String(error) });
    await failChangeRequest(deps, changeRequest.id, { code: 'queue_unavailable', message: 'the change request could not be queued; submit it again' });
    throw new UnavailableError('the change-request queue is unavailable; nothing was changed, submit again', 5, { cause: error });
  }
  return changeRequest;
}

/** A change request as it arrives on a queue. */
export interface QueuedChangeRequest extends Submission {
  changeRequestId: string;
  channel: ChangeRequestChannel;
}

function newQueuedRecord(command: QueuedChangeRequest, now: string): ChangeRequest {
  return {
    id: command.changeRequestId, status: ChangeRequestStatus.accepted, request: command.request, reason: null, actor: command.actor,
    correlationId: command.correlationId, channel: command.channel, acceptedAt: now, completedAt: null, auditSequence: null,
  };
}

function draftFor(deps: Dependencies, request: ChangeRequest, fields: Pick<AuditDraft, 'action' | 'subject' | 'outcome' | 'before' | 'after'>): AuditDraft {
  return { id: deps.ids.next(), actor: request.actor, changeRequestId: request.id, correlationId: request.correlationId, causationId: request.id, ...fields };
}

/**
 * Applies a queued create or delete: enforces every rule, then commits the endpoint change (or the
 * rejection), the request's final status, its audit record and its event together. A request that
 * is already settled is left alone, so redelivered messages change nothing.
 */
export async function applyChangeRequest(deps: Dependencies, command: QueuedChangeRequest): Promise<ChangeRequest> {
  const { request } = command;
  const query = queryFor(request.sipAddress, request.operation === 'create' ? request.poolFqdn : undefined, command.changeRequestId);
  const { result } = await commitDecision(deps, query, (snapshot, now) => {
    const existing = snapshot.changeRequests.get(command.changeRequestId);
    if (existing && existing.status !== ChangeRequestStatus.accepted) return { plan: null, result: existing };

    const base = existing ?? newQueuedRecord(command, now.toISOString());
    const stored = base.request ?? request;
    const decision = decide(stored, snapshot, now.toISOString(), base.id);
    let plan: Plan;
    let final: ChangeRequest;
    if (decision.outcome === 'rejected') {
      final = settledAs(base, ChangeRequestStatus.rejected, reasonOf(decision), snapshot, now);
      const holder = snapshot.holders.get(stored.sipAddress) ?? null;
      plan = { writes: [], changeRequests: [final], audit: [draftFor(deps, base, { action: rejectionAction(stored), subject: stored.sipAddress, outcome: { status: 'rejected', code: decision.code, message: decision.message }, before: holder, after: holder })] };
    } else if (decision.outcome === 'applied') {
      final = settledAs(base, ChangeRequestStatus.applied, null, snapshot, now);
      plan = { writes: decision.writes, changeRequests: [final], audit: [draftFor(deps, base, { action: decision.action, subject: decision.subject, outcome: { status: 'applied' }, before: decision.before, after: decision.after })] };
    } else {
      throw new Error('endpoint changes are never idempotent no-ops');
    }
    return { plan, result: final };
  });
  return result;
}

/** A queue message that is not a valid change request. */
export interface InvalidMessage {
  changeRequestId: string;
  subject: string;
  actor: string;
  correlationId: string;
  errors: FieldError[];
}

/**
 * Records a malformed queue message as a rejected change request (code invalid_message) with its
 * validation errors, audited once however often the message is redelivered.
 */
export async function recordInvalidMessage(deps: Dependencies, message: InvalidMessage): Promise<ChangeRequest> {
  const { result } = await commitDecision(deps, { changeRequests: [message.changeRequestId] }, (snapshot, now) => {
    const existing = snapshot.changeRequests.get(message.changeRequestId);
    if (existing) return { plan: null, result: existing };
    const reason = { code: RejectionCode.invalidMessage, message: 'the queue message is not a valid change request', errors: message.errors };
    const unparsed: ChangeRequest = {
      id: message.changeRequestId, status: ChangeRequestStatus.accepted, request: null, reason: null, actor: message.actor,
      correlationId: message.correlationId, channel: 'queue', acceptedAt: now.toISOString(), completedAt: null, auditSequence: null,
    };
    const record = settledAs(unparsed, ChangeRequestStatus.rejected, reason, snapshot, now);
    const audit = draftFor(deps, record, { action: AuditAction.changeRequestInvalid, subject: message.subject, outcome: { status: 'rejected', code: reason.code, message: reason.message }, before: null, after: { errors: message.errors } });
    return { plan: { writes: [], changeRequests: [record], audit: [audit] }, result: record };
  });
  return result;
}

/** Settles an accepted request as failed, with the reason, audited; a settled request is left alone. */
export async function failChangeRequest(deps: Dependencies, changeRequestId: string, reason: ChangeRequestReason): Promise<ChangeRequest | undefined> {
  const { result } = await commitDecision(deps, { changeRequests: [changeRequestId] }, (snapshot, now) => {
    const existing = snapshot.changeRequests.get(changeRequestId);
    if (!existing || existing.status !== ChangeRequestStatus.accepted) return { plan: null, result: existing };
    const failed = settledAs(existing, ChangeRequestStatus.failed, reason, snapshot, now);
    const audit = draftFor(deps, existing, { action: AuditAction.changeRequestFailed, subject: existing.request?.sipAddress ?? `change-request:${existing.id}`, outcome: { status: 'failed', code: reason.code, message: reason.message }, before: null, after: null });
    return { plan: { writes: [], changeRequests: [failed], audit: [audit] }, result: failed };
  });
  return result;
}
