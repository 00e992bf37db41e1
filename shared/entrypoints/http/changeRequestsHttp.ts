import { z } from 'zod';
import { ChangeRequestBodySchema, ChangeRequestStatus, type ChangeRequest } from '../../domain/changeRequest';
import { SipAddressSchema } from '../../domain/names';
import { cancelChangeRequest, type CancelDependencies } from '../../application/changeRequests/cancelChangeRequest';
import { ErrorCode, NotFoundError, TooManyRequestsError, ValidationError } from '../../domain/errors';
import type { ServiceDependencies } from '../../application/dependencies';
import type { RateLimiter } from '../../application/rateLimiter';
import { predictChangeRequest, type PredictDependencies } from '../../application/changeRequests/predictChangeRequest';
import { submitChangeRequest, type SubmitDependencies } from '../../application/changeRequests/submitChangeRequest';
import { holdsAnyRole, Role, type Principal } from '../../domain/principal';
import { traceContextOf, traceIdOf } from '../../domain/traceContext';
import { httpEntrypoint, type HttpDependencies } from './httpEntrypoint';
import {
  absoluteUrl,
  correlationIdOf,
  fromQuery,
  json,
  pageLimit,
  parseInput,
  queryObject,
  readJsonBody,
  type HttpInput,
} from './httpInput';

/** The query of POST /api/change-requests (exported for the OpenAPI document). */
export const SubmitQuerySchema = z.strictObject({
  dryRun: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
});

/**
 * Seconds a caller should wait before asking about a request still `accepted` (Retry-After on the
 * 202 and on the status answer). One: a worker usually settles a request within a second of its
 * message arriving, and a poll is one point read, so a shorter wait would not be noticed and a
 * longer one would make every change look slower than it is.
 */
export const POLL_AFTER_SECONDS = 1;

/** The path of /api/change-requests/{id} (exported for the OpenAPI document). */
export const ChangeRequestParamsSchema = z.object({ id: z.uuid({ error: 'must be a change request id (a UUID)' }) });

/** Visible ASCII, as in the IETF Idempotency-Key draft; a structured-field string's quotes are dropped. */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The Idempotency-Key header, if any: 1-255 visible ASCII characters, optionally as a quoted string. */
function idempotencyKeyOf(request: HttpInput): string | undefined {
  const raw = request.headers.get('idempotency-key')?.trim();
  if (raw === undefined) return undefined;
  const key = /^".*"$/.test(raw) ? raw.slice(1, -1) : raw;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new ValidationError(ErrorCode.validationFailed, 'Idempotency-Key is invalid', {
      errors: [
        { pointer: '#/idempotency-key', detail: 'Idempotency-Key must be 1-255 visible ASCII characters (no spaces)', location: 'header' },
      ],
    });
  }
  return key;
}

/** 429 when the principal has used up its submissions for now; checked before the body is read. Dry runs count too. */
function refuseOverRate(limiter: RateLimiter, principal: Principal): void {
  const decision = limiter.take(principal.name);
  if (decision.allowed) return;
  throw new TooManyRequestsError(
    ErrorCode.rateLimited,
    `too many submissions from this principal; try again in ${decision.retryAfterSeconds} s`,
    decision.retryAfterSeconds,
    { errors: [{ pointer: '#/authorization', detail: 'the principal has used up its submissions for this window', location: 'header' }] },
  );
}

/**
 * POST /api/change-requests: 202 + Location for a queued request, or 200 with the prediction for
 * `?dryRun=true`. With Idempotency-Key, a retry gets the original 202 again (Idempotent-Replayed: true).
 */
export const submitChangeRequestHttp = httpEntrypoint(
  { roles: [Role.submitter] },
  async (
    deps: SubmitDependencies & PredictDependencies & Pick<ServiceDependencies, 'submissionLimiter'> & HttpDependencies,
    request,
    principal,
  ) => {
    refuseOverRate(deps.submissionLimiter, principal);
    const { dryRun } = parseInput(SubmitQuerySchema, queryObject(request), 'query');
    const idempotencyKey = idempotencyKeyOf(request);
    const body = parseInput(ChangeRequestBodySchema, await readJsonBody(request), 'body');
    if (dryRun === 'true') return json(200, { dryRun: true, request: body, ...(await predictChangeRequest(deps, body)) });
    const correlationId = correlationIdOf(request);
    // W3C Trace Context: a malformed traceparent is ignored (the request gets a new trace), never refused.
    const traceContext = traceContextOf(request.headers.get('traceparent'), request.headers.get('tracestate'));
    const submission = {
      request: body,
      actor: principal.name,
      correlationId,
      ...(idempotencyKey ? { idempotencyKey } : {}),
      ...(traceContext ? { traceContext } : {}),
    };
    const log = deps.log.with({ correlationId });
    const { changeRequest, replayed } = await submitChangeRequest({ ...deps, log }, submission);
    log.info('change request accepted', {
      changeRequestId: changeRequest.id,
      replayed,
      ...(changeRequest.traceContext ? { traceId: traceIdOf(changeRequest.traceContext) } : {}),
    });
    const headers: Record<string, string> = {
      location: absoluteUrl(deps.publicBaseUrl, `/api/change-requests/${changeRequest.id}`),
      'retry-after': String(POLL_AFTER_SECONDS),
    };
    if (replayed) headers['idempotent-replayed'] = 'true';
    return json(202, changeRequest, headers);
  },
);

/**
 * Whether the principal may read a change request: operators and auditors read any, a submitter
 * only those it submitted over HTTP (a queue message's actor is a claim, not a proof of who sent it).
 */
function mayRead(principal: Principal, changeRequest: ChangeRequest): boolean {
  if (holdsAnyRole(principal, [Role.operator, Role.auditor])) return true;
  return changeRequest.channel === 'http' && changeRequest.actor === principal.name;
}

/**
 * GET /api/change-requests/{id}: the request and its status. Another principal's request answers
 * exactly as a missing one does, so a submitter cannot learn which ids exist.
 */
export const getChangeRequestHttp = httpEntrypoint(
  { roles: [Role.submitter, Role.operator, Role.auditor] },
  async (deps: Pick<ServiceDependencies, 'queries'> & HttpDependencies, request, principal) => {
    const { id } = parseInput(ChangeRequestParamsSchema, request.params, 'path');
    const found = await deps.queries.changeRequest(id);
    if (!found || !mayRead(principal, found))
      throw new NotFoundError(ErrorCode.changeRequestNotFound, `no change request has the id ${id}`);
    // Still queued: say when asking again is worth it, as the 202 did.
    return json(200, found, found.status === 'accepted' ? { 'retry-after': String(POLL_AFTER_SECONDS) } : {});
  },
);

const STATUSES = Object.values(ChangeRequestStatus);

/** An RFC 3339 timestamp with its offset, as a canonical ISO string (compared with acceptedAt). */
const TIMESTAMP = z.iso
  .datetime({ offset: true, error: 'must be an RFC 3339 timestamp, e.g. 2026-11-23T10:00:00Z' })
  .transform((value) => new Date(value).toISOString());

/** The query of GET /api/change-requests (exported for the OpenAPI document). */
export const ChangeRequestQuerySchema = z
  .strictObject({
    status: z.enum(STATUSES, { error: `must be one of ${STATUSES.join(', ')}` }).optional(),
    /** Matched exactly, in canonical form (as requests store it). */
    sipAddress: SipAddressSchema.optional(),
    operation: z.enum(['create', 'delete'], { error: 'must be create or delete' }).optional(),
    since: TIMESTAMP.optional(),
    until: TIMESTAMP.optional(),
    limit: pageLimit(1000).default(100),
    cursor: z.string().min(1, 'must not be empty').max(1024, 'must be at most 1024 characters').optional(),
  })
  .superRefine((query, ctx) => {
    if (query.since !== undefined && query.until !== undefined && query.since > query.until)
      ctx.addIssue({ code: 'custom', path: ['since'], message: 'must not be later than until' });
  });

/** Whether the principal sees every request (operators and auditors) or only its own (a submitter). */
const seesAll = (principal: Principal) => holdsAnyRole(principal, [Role.operator, Role.auditor]);

/**
 * GET /api/change-requests: change requests newest first (by acceptedAt), filtered and paged. A
 * submitter lists only the requests it submitted; operators and auditors list all.
 */
export const listChangeRequestsHttp = httpEntrypoint(
  { roles: [Role.submitter, Role.operator, Role.auditor] },
  async (deps: Pick<ServiceDependencies, 'queries'> & HttpDependencies, request, principal) => {
    const query = parseInput(ChangeRequestQuerySchema, queryObject(request), 'query');
    const filter = { ...query, ...(seesAll(principal) ? {} : { submittedBy: principal.name }) };
    return json(200, await fromQuery(deps.queries.changeRequests(filter)));
  },
);

/**
 * POST /api/change-requests/{id}/cancel: settles a request still `accepted` as `canceled`. 409
 * change_request_settled (with its `changeRequestStatus`) once settled; a submitter's cancel of another's request
 * answers as an unknown one does (404).
 */
export const cancelChangeRequestHttp = httpEntrypoint(
  { roles: [Role.submitter, Role.operator] },
  async (deps: CancelDependencies & HttpDependencies, request, principal) => {
    const { id } = parseInput(ChangeRequestParamsSchema, request.params, 'path');
    // An operator cancels any request; a submitter that is not also an operator only its own.
    const ownOnly = !holdsAnyRole(principal, [Role.operator]);
    const canceled = await cancelChangeRequest(deps, id, { name: principal.name, ownOnly });
    deps.log.with({ correlationId: canceled.correlationId }).info('change request canceled', { changeRequestId: id, by: principal.name });
    return json(200, canceled);
  },
);
