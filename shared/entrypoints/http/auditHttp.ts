import { z } from 'zod';
import { AuditAction } from '../../domain/audit';
import type { ServiceDependencies } from '../../application/dependencies';
import { auditTimeline, type TimelineDependencies } from '../../application/audit/auditTimeline';
import { isKnownTimeZone } from '../../domain/auditTimeline';
import { verifyAuditLog, type VerifyDependencies } from '../../application/audit/verifyAuditLog';
import { exportLines, EXPORT_MEDIA_TYPES } from './auditExport';
import { Role } from '../../domain/principal';
import { httpEntrypoint, type HttpDependencies } from './httpEntrypoint';
import { fromQuery, json, pageLimit, parseInput, queryObject } from './httpInput';

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

/** GET /api/audit/verify: walks the whole log and its signed checkpoints; says where it first breaks. */
export const verifyAuditHttp = httpEntrypoint({ roles: AUDITORS }, async (deps: VerifyDependencies & HttpDependencies, request) => {
  parseInput(z.strictObject({}), queryObject(request), 'query');
  return json(200, await verifyAuditLog(deps));
});
