import { createHash } from 'node:crypto';
import { AuditAction, canonicalJson, type AuditDraft } from '../domain/audit';
import {
  ChangeRequestStatus, RejectionCode,
  type ChangeRequest, type ChangeRequestBody, type ChangeRequestChannel, type ChangeRequestReason,
} from '../domain/changeRequest';
import { InvariantError, UnprocessableError, type FieldError } from '../domain/errors';
import { decideCreate, decideDelete, type Decision, type Rejected } from '../domain/rules';
import { commitDecision, queryFor, viewOf, type Dependencies, type Plan } from './commitDecision';
import { changeRequestMessage, destinationFor } from './messages';
import type { AdmissionOptions, DirectorySnapshot } from './ports';
import { inTurn } from './inTurn';
import { nextRedriveAt } from './deliveryPolicy';

/** Who submitted a request and how to tie its records together. */
export interface Submission {
  request: ChangeRequestBody;
  actor: string;
  correlationId: string;
  /** The caller's Idempotency-Key: a retry with the same key gets the original result. */
  idempotencyKey?: string;
}

/** An accepted request, and whether it was accepted by an earlier call with the same Idempotency-Key. */
export interface SubmissionResult {
  changeRequest: ChangeRequest;
  replayed: boolean;
}

/** A change request that carries its parsed request (every one but an unparseable queue message's). */
type WithRequest = ChangeRequest & { request: ChangeRequestBody };

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

/** A digest of the normalized request: the same request, however it was spelled, has the same fingerprint. */
function fingerprintOf(request: ChangeRequestBody): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}

function admissionOptions(deps: Dependencies, now: Date): AdmissionOptions {
  return { now, redriveAt: nextRedriveAt(deps.delivery, now, 1) };
}

/** Admits a request into its address's line; admissions of one address take turns within this process. */
function admit(deps: Dependencies, request: WithRequest, options: AdmissionOptions) {
  return inTurn(`admit|${request.request.sipAddress}`, () => deps.store.admit(request, options));
}

/**
 * Sends an admitted request's message. A send that fails is not the caller's problem: the request is
 * durably accepted, and the re-driver sends it again when its re-drive time comes.
 */
async function sendChangeRequest(deps: Dependencies, changeRequest: WithRequest): Promise<void> {
  try {
    await deps.bus.send(destinationFor(changeRequest.request.operation), changeRequestMessage(changeRequest));
  } catch (error) {
    deps.log.warn('change request left for the re-driver to send', { changeRequestId: changeRequest.id, error: String(error) });
  }
}

/**
 * Accepts a change request: records it as `accepted` with its ticket in its address's line (and its
 * Idempotency-Key), then queues it for the create or delete worker. A retry with the same key gets
 * the original request back; the same key with a different request is refused.
 */
export async function submitChangeRequest(deps: Dependencies, submission: Submission): Promise<SubmissionResult> {
  const now = deps.clock.now();
  const candidate: WithRequest = {
    id: deps.ids.next(),
    status: ChangeRequestStatus.accepted,
    request: submission.request,
    reason: null,
    actor: submission.actor,
    correlationId: submission.correlationId,
    channel: 'http',
    acceptedAt: now.toISOString(),
    completedAt: null,
    auditSequence: null,
    ticket: null,
  };
  const fingerprint = fingerprintOf(submission.request);
  const idempotency = submission.idempotencyKey === undefined ? undefined : {
    scope: submission.actor, key: submission.idempotencyKey, fingerprint, expiresAt: new Date(now.getTime() + deps.delivery.idempotencyKeyTtlMs).toISOString(),
  };
  const admission = await admit(deps, candidate, { ...admissionOptions(deps, now), idempotency });
  if (admission.outcome === 'key-taken') {
    if (admission.idempotency.fingerprint !== fingerprint) {
      throw new UnprocessableError('idempotency_key_reused', 'this Idempotency-Key was already used with a different request; use a new key for a new request', {
        errors: [{ pointer: '#/idempotency-key', detail: 'Idempotency-Key must not be reused for a different request body', location: 'header' }],
      });
    }
    return { changeRequest: admission.idempotency.changeRequest, replayed: true };
  }
  if (admission.outcome === 'id-taken') throw new InvariantError('invariant_broken', `change request id ${candidate.id} was issued twice`);
  await sendChangeRequest(deps, admission.changeRequest);
  return { changeRequest: admission.changeRequest, replayed: false };
}

/** A change request as it arrives on a queue. */
export interface QueuedChangeRequest extends Submission {
  changeRequestId: string;
  channel: ChangeRequestChannel;
}

function newQueuedRecord(command: QueuedChangeRequest, now: string): WithRequest {
  return {
    id: command.changeRequestId, status: ChangeRequestStatus.accepted, request: command.request, reason: null, actor: command.actor,
    correlationId: command.correlationId, channel: command.channel, acceptedAt: now, completedAt: null, auditSequence: null, ticket: null,
  };
}

function draftFor(deps: Dependencies, request: ChangeRequest, fields: Pick<AuditDraft, 'action' | 'subject' | 'outcome' | 'before' | 'after'>): AuditDraft {
  return { id: deps.ids.next(), actor: request.actor, changeRequestId: request.id, correlationId: request.correlationId, causationId: request.id, ...fields };
}

/** Decides a waiting request on a snapshot: the plan that settles it (applied or rejected) and its final record. */
function settle(deps: Dependencies, waiting: WithRequest, snapshot: DirectorySnapshot, now: Date): { plan: Plan; settled: ChangeRequest } {
  const { request } = waiting;
  const decision = decide(request, snapshot, now.toISOString(), waiting.id);
  if (decision.outcome === 'rejected') {
    const settled = settledAs(waiting, ChangeRequestStatus.rejected, reasonOf(decision), snapshot, now);
    const holder = snapshot.holders.get(request.sipAddress) ?? null;
    const audit = draftFor(deps, waiting, { action: rejectionAction(request), subject: request.sipAddress, outcome: { status: 'rejected', code: decision.code, message: decision.message }, before: holder, after: holder });
    return { plan: { writes: [], changeRequests: [settled], audit: [audit] }, settled };
  }
  if (decision.outcome === 'unchanged') throw new InvariantError('invariant_broken', 'endpoint changes are never idempotent no-ops');
  const settled = settledAs(waiting, ChangeRequestStatus.applied, null, snapshot, now);
  const audit = draftFor(deps, waiting, { action: decision.action, subject: decision.subject, outcome: { status: 'applied' }, before: decision.before, after: decision.after });
  return { plan: { writes: decision.writes, changeRequests: [settled], audit: [audit] }, settled };
}

/**
 * Settles the requests in the line of `command`'s address up to and including its own, lowest
 * ticket first, one commit each. So changes to one address take effect in the order they were
 * accepted, whatever order their messages arrive in: a message that overtakes an earlier one
 * settles the earlier one first, and the earlier message, when it comes, finds its request settled.
 * Returns undefined if the request was never admitted.
 */
async function settleInOrder(deps: Dependencies, command: QueuedChangeRequest): Promise<ChangeRequest | undefined> {
  const { changeRequestId } = command;
  let request = command.request;
  for (;;) {
    const query = queryFor(request.sipAddress, request.operation === 'create' ? request.poolFqdn : undefined, changeRequestId, true);
    const { result } = await commitDecision(deps, query, (snapshot, now): { plan: Plan | null; result: ChangeRequest | 'not-admitted' | 'next' } => {
      const current = snapshot.changeRequests.get(changeRequestId);
      if (current === undefined) return { plan: null, result: 'not-admitted' };
      if (current.status !== ChangeRequestStatus.accepted || current.request === null) return { plan: null, result: current };
      // The request as admitted wins over a message that reuses its id for something else.
      if (current.request.sipAddress !== request.sipAddress) {
        request = current.request;
        return { plan: null, result: 'next' };
      }
      // A request accepted before lines existed holds no ticket and is settled on its own.
      const next: WithRequest | undefined = current.ticket === null ? (current as WithRequest) : snapshot.lineHeads.get(request.sipAddress);
      if (!next) throw new InvariantError('invariant_broken', `change request ${changeRequestId} holds ticket ${current.ticket} but no request waits in its line`);
      const { plan, settled } = settle(deps, next, snapshot, now);
      return { plan, result: next.id === changeRequestId ? settled : 'next' };
    });
    if (result === 'not-admitted') return undefined;
    if (result !== 'next') return result;
  }
}

/** Admits a request that arrived straight on a queue; a concurrent delivery of the same message may have admitted it first. */
async function admitQueued(deps: Dependencies, command: QueuedChangeRequest): Promise<void> {
  const now = deps.clock.now();
  await admit(deps, newQueuedRecord(command, now.toISOString()), admissionOptions(deps, now));
}

/**
 * Applies a queued create or delete: enforces every rule, then commits the endpoint change (or the
 * rejection), the request's final status, its audit record and its event together, in the order
 * the address's requests were accepted. A request that is already settled is left alone, so
 * redelivered and re-driven messages change nothing.
 */
export async function applyChangeRequest(deps: Dependencies, command: QueuedChangeRequest): Promise<ChangeRequest> {
  // A request straight from automation is admitted before it waits for the store's writer: until
  // then, a worker that dies holding it leaves no record (only the message, which may be poisoned).
  if ((await deps.store.getChangeRequest(command.changeRequestId)) === undefined) await admitQueued(deps, command);
  const settled = await settleInOrder(deps, command);
  if (!settled) throw new InvariantError('invariant_broken', `change request ${command.changeRequestId} was admitted but cannot be read back`);
  return settled;
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
      correlationId: message.correlationId, channel: 'queue', acceptedAt: now.toISOString(), completedAt: null, auditSequence: null, ticket: null,
    };
    const record = settledAs(unparsed, ChangeRequestStatus.rejected, reason, snapshot, now);
    const audit = draftFor(deps, record, { action: AuditAction.changeRequestInvalid, subject: message.subject, outcome: { status: 'rejected', code: reason.code, message: reason.message }, before: null, after: { errors: message.errors } });
    return { plan: { writes: [], changeRequests: [record], audit: [audit] }, result: record };
  });
  return result;
}

/**
 * Settles an accepted request as failed, with the reason, audited; a settled request is left alone.
 * A queued request that never got as far as being admitted is recorded, failed, from `unadmitted`.
 */
export async function failChangeRequest(deps: Dependencies, changeRequestId: string, reason: ChangeRequestReason, unadmitted?: QueuedChangeRequest): Promise<ChangeRequest | undefined> {
  const { result } = await commitDecision(deps, { changeRequests: [changeRequestId] }, (snapshot, now) => {
    const existing = snapshot.changeRequests.get(changeRequestId) ?? (unadmitted ? newQueuedRecord(unadmitted, now.toISOString()) : undefined);
    if (!existing || existing.status !== ChangeRequestStatus.accepted) return { plan: null, result: existing };
    const failed = settledAs(existing, ChangeRequestStatus.failed, reason, snapshot, now);
    const audit = draftFor(deps, existing, { action: AuditAction.changeRequestFailed, subject: existing.request?.sipAddress ?? `change-request:${existing.id}`, outcome: { status: 'failed', code: reason.code, message: reason.message }, before: null, after: null });
    return { plan: { writes: [], changeRequests: [failed], audit: [audit] }, result: failed };
  });
  return result;
}
