import { z } from 'zod';
import { AuditAction } from '../../domain/audit';
import type { ServiceDependencies } from '../../application/dependencies';
import { auditTimeline, type TimelineDependencies } from '../../application/audit/auditTimeline';
import { isKnownTimeZone } from '../../domain/auditTimeline';
import {
  advanceUntilDone,
  getVerification,
  startVerification,
  verifyNow,
  type VerificationRunDependencies,
} from '../../application/audit/verificationRuns';
import { ErrorCode, NotFoundError } from '../../domain/errors';
import { VerificationMode } from '../../domain/verificationRecord';
import { exportLines, EXPORT_MEDIA_TYPES } from './auditExport';
import { Role } from '../../domain/principal';
import { httpEntrypoint, type HttpDependencies } from './httpEntrypoint';
import { absoluteUrl, fromQuery, json, pageLimit, parseInput, queryObject, readJsonBody } from './httpInput';

const ACTIONS = Object.values(AuditAction);
const TIMESTAMP = z.iso
  .datetime({ offset: true, error: 'must be an RFC 3339 timestamp, e.g. 2026-11-23T10:00:00Z' })
  .transform((value) => new Date(value).toISOString());

/** Records per page when the caller names no limit. */
const DEFAULT_PAGE = 100;

/** The filters GET /api/audit and GET /api/audit/timeline share. */
const AUDIT_FILTERS = {
  /** A SIP address (normalized like one) or a topology subject such as pool:pcpool.contoso.com. */
  subject: z
    .string()
    .min(1)
    .max(300)
    .transform((value) => value.trim().toLowerCase())
    .optional(),
  type: z.enum(ACTIONS, { error: `must be one of ${ACTIONS.join(', ')}` }).optional(),
  actor: z.string().min(1).max(256).optional(),
  /** The claim a queue message made of whom it acts for (automation's own name, say provisioning-bot). */
  onBehalfOf: z.string().min(1).max(256).optional(),
  outcome: z.enum(['applied', 'rejected', 'failed'], { error: 'must be applied, rejected or failed' }).optional(),
  changeRequest: z.uuid({ error: 'must be a change request id (a UUID)' }).optional(),
  correlation: z.string().min(1).max(128).optional(),
  since: TIMESTAMP.optional(),
  until: TIMESTAMP.optional(),
};

/** The query of GET /api/audit (exported for the OpenAPI document). */
export const AuditQuerySchema = z
  .strictObject({
    ...AUDIT_FILTERS,
    limit: pageLimit(1000).optional(),
    cursor: z.string().min(1).max(1024).optional(),
    /** json (a page, the default), or the whole filtered result streamed as ndjson or csv. */
    format: z.enum(['json', 'ndjson', 'csv'], { error: 'must be json, ndjson or csv' }).default('json'),
  })
  .superRefine((query, ctx) => {
    if (query.format === 'json') return;
    // An export is the whole result: paging parameters would silently mean something else.
    if (query.cursor !== undefined)
      ctx.addIssue({ code: 'custom', path: ['cursor'], message: 'cursor pages the json format; an export is the whole result' });
    if (query.limit !== undefined)
      ctx.addIssue({ code: 'custom', path: ['limit'], message: 'limit pages the json format; an export is the whole result' });
  });

/** The audit log is the auditors'. */
const AUDITORS = [Role.auditor];

/** GET /api/audit: audit records newest first, filtered and paged; or, with format=ndjson|csv, all of them streamed. */
export const listAuditHttp = httpEntrypoint(
  { roles: AUDITORS },
  async (deps: Pick<ServiceDependencies, 'auditSearch' | 'clock' | 'limits'> & HttpDependencies, request) => {
    const { type, changeRequest, correlation, format, limit, cursor, ...window } = parseInput(
      AuditQuerySchema,
      queryObject(request),
      'query',
    );
    const query = { ...window, action: type, changeRequestId: changeRequest, correlationId: correlation };
    if (format === 'json') return json(200, await fromQuery(deps.auditSearch.page({ ...query, limit: limit ?? DEFAULT_PAGE, cursor })));
    const filename = `audit-${deps.clock.now().toISOString().replace(/[:.]/g, '-')}.${format}`;
    return {
      status: 200,
      headers: {
        'content-type': EXPORT_MEDIA_TYPES[format],
        'content-disposition': `attachment; filename="${filename}"`,
        'x-export-limit': String(deps.limits.auditExportRecords),
      },
      body: exportLines(deps.auditSearch.export(query), format, deps.limits.auditExportRecords),
    };
  },
);

/**
 * An IANA time zone name: letters, digits and `_ + - /` only (checked first, and alone, so a hostile
 * value gets one clear error), then one the runtime knows. Answered as given: ICU's canonical names
 * are dated (Asia/Kolkata would come back as Asia/Calcutta).
 */
const TIME_ZONE = z
  .string()
  .max(64, { error: 'must be at most 64 characters', abort: true })
  .regex(/^[A-Za-z][A-Za-z0-9_+/-]*$/, { error: 'must be an IANA time zone name, e.g. Europe/Berlin or UTC', abort: true })
  .refine(isKnownTimeZone, 'must be a time zone this service knows (an IANA name such as America/New_York)');

/** The query of GET /api/audit/timeline (exported for the OpenAPI document): the audit filters and the reader's time zone. */
export const AuditTimelineQuerySchema = z.strictObject({ ...AUDIT_FILTERS, timeZone: TIME_ZONE.default('UTC') });

/** GET /api/audit/timeline: applied, rejected and failed records per day of the reader's time zone, for the filters. */
export const auditTimelineHttp = httpEntrypoint({ roles: AUDITORS }, async (deps: TimelineDependencies & HttpDependencies, request) => {
  const { type, changeRequest, correlation, timeZone, ...window } = parseInput(AuditTimelineQuerySchema, queryObject(request), 'query');
  const query = { ...window, action: type, changeRequestId: changeRequest, correlationId: correlation };
  return json(200, await auditTimeline(deps, query, timeZone));
});

/** The query of GET /api/audit/verify: full=true walks the whole log (within the same bound), otherwise only what is new. */
export const VerifyQuerySchema = z.strictObject({
  full: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
});

/**
 * GET /api/audit/verify: an incremental verification inside the request (full=true: a full one). A
 * run that would walk more than 20,000 records answers 422 verification_too_large: in Azure a request
 * must answer within 230 s, so that is POST /api/audit/verifications' job.
 */
export const verifyAuditHttp = httpEntrypoint(
  { roles: AUDITORS },
  async (deps: VerificationRunDependencies & HttpDependencies, request) => {
    const { full } = parseInput(VerifyQuerySchema, queryObject(request), 'query');
    return json(200, await verifyNow(deps, full === 'true' ? VerificationMode.full : VerificationMode.incremental));
  },
);

/** The body of POST /api/audit/verifications. */
export const VerificationRequestSchema = z.strictObject({
  mode: z
    .enum([VerificationMode.incremental, VerificationMode.full], { error: 'must be incremental or full' })
    .default(VerificationMode.incremental),
});

/** The path of GET /api/audit/verifications/{id}. */
export const VerificationParamsSchema = z.strictObject({
  id: z.uuid({ error: 'must be a verification id (a UUID)' }),
});

/** Seconds a caller waits before asking about a running verification again. */
export const VERIFICATION_POLL_SECONDS = 1;

/** How long the POST's own background slices may run before the timer takes over (well inside a function's 5 minutes). */
const BACKGROUND_BUDGET_MS = 4 * 60_000;

/**
 * POST /api/audit/verifications: stores a verification operation and answers 202 at once, with its
 * Location. Its first slices run in the background of this invocation (a small log is verified in a
 * second or two); the advanceAuditVerifications timer continues whatever that leaves, on any instance.
 */
export const startVerificationHttp = httpEntrypoint(
  { roles: AUDITORS },
  async (deps: VerificationRunDependencies & Pick<ServiceDependencies, 'log'> & HttpDependencies, request, principal) => {
    parseInput(z.strictObject({}), queryObject(request), 'query');
    const { mode } = parseInput(VerificationRequestSchema, (await readJsonBody(request, { optional: true })) ?? {}, 'body');
    const operation = await startVerification(deps, { mode, requestedBy: principal.name });
    const owner = `http-${deps.ids.next()}`;
    // Not awaited: the answer does not wait for the walk. A failure here is only logged; the timer retries.
    void advanceUntilDone(deps, operation.id, owner, deps.clock.now().getTime() + BACKGROUND_BUDGET_MS).catch((error: unknown) =>
      deps.log.warn('audit verification slice failed; the timer will retry', { verificationId: operation.id, error: String(error) }),
    );
    return json(202, operation, {
      location: absoluteUrl(deps.publicBaseUrl, `/api/audit/verifications/${operation.id}`),
      'retry-after': String(VERIFICATION_POLL_SECONDS),
    });
  },
);

/** GET /api/audit/verifications/{id}: status, progress and (once it succeeded) the report; Retry-After while it runs. */
export const getVerificationHttp = httpEntrypoint(
  { roles: AUDITORS },
  async (deps: VerificationRunDependencies & HttpDependencies, request) => {
    const { id } = parseInput(VerificationParamsSchema, request.params, 'path');
    parseInput(z.strictObject({}), queryObject(request), 'query');
    const operation = await getVerification(deps, id);
    if (!operation) throw new NotFoundError(ErrorCode.verificationNotFound, `no verification has the id ${id}`);
    return json(200, operation, operation.status === 'running' ? { 'retry-after': String(VERIFICATION_POLL_SECONDS) } : {});
  },
);
