import { z } from 'zod';
import { AuditAction, type AuditRecord } from '../../domain/audit';
import type { Problem } from './problems';
import type { VerificationReport } from '../../domain/auditVerification';
import type { AuditTimeline } from '../../domain/auditTimeline';
import type { VerificationOperation } from '../../application/ports/auditVerifications';
import { FailureCode, RejectionCode, TopologyCode } from '../../domain/codes';
import type { ChangeRequest } from '../../domain/changeRequest';
import type { DirectoryUser, Endpoint, PersistentChatPool, SipDomain } from '../../domain/directory';
import type { Prediction } from '../../application/changeRequests/predictChangeRequest';
import type { Page, Topology } from '../../application/ports/directoryQueries';
import type { ListedCheckpoint } from '../../application/audit/listCheckpoints';
import { ChangeRequestBodySchema } from '../../domain/changeRequest';

/**
 * The bodies the HTTP routes answer with, as zod schemas (strict: an answer holding a field the
 * schema does not describe fails the e2e check against the document): the OpenAPI document's response schemas
 * are generated from them (openApi.ts). Each is tied to the domain type it describes by the
 * compile-time checks at the end of this file, so a field added to a type without its schema (or
 * a schema that claims a field the type lacks) fails the build rather than the contract.
 */

const TIMESTAMP = z.string().meta({ format: 'date-time', description: 'RFC 3339, UTC' });
const SIP_ADDRESS = z.string().meta({ description: 'A SIP address in canonical form (lower case): sip:user@host' });
const FQDN = z.string().meta({ description: 'A fully qualified domain name, lower case' });

/** A field-level error: where (a JSON pointer into the input) and which rule it broke. */
export const FieldErrorSchema = z.object({
  pointer: z.string().meta({ description: 'A JSON pointer to the field, e.g. #/sipAddress' }),
  detail: z.string().meta({ description: 'The field and the rule it broke' }),
  location: z.enum(['body', 'query', 'path', 'header', 'message']).optional(),
});

/** An RFC 9457 problem details document with this service's extensions (problems.ts writes them). */
export const ProblemSchema = z
  .object({
    type: z.string().meta({ description: 'A URI of the page explaining the code: <base>/api/problems/<code>' }),
    title: z.string(),
    status: z.int(),
    detail: z.string().meta({ description: 'What went wrong, for people' }),
    code: z.string().meta({ description: 'A stable code to branch on' }),
    errors: z.array(FieldErrorSchema).optional().meta({ description: 'Each field at fault and the rule it broke' }),
    instance: z.string().optional(),
  })
  .meta({ id: 'Problem' });

/** Why a change request was rejected, failed or was canceled. */
const ReasonSchema = z.strictObject({
  code: z.enum([...Object.values(RejectionCode), ...Object.values(FailureCode), 'canceled']),
  message: z.string(),
  errors: z.array(FieldErrorSchema).optional(),
});

const TraceContextSchema = z.strictObject({ traceparent: z.string(), tracestate: z.string().optional() });

/** GET /api/change-requests/{id}: a change request and where it stands. */
export const ChangeRequestSchema = z
  .strictObject({
    id: z.uuid(),
    status: z
      .enum(['accepted', 'applied', 'rejected', 'failed', 'canceled'])
      .meta({ description: '`accepted` until it settles as one of the other four (all final)' }),
    request: ChangeRequestBodySchema.nullable().meta({ description: 'The validated request; null only for an unparsable queue message' }),
    reason: ReasonSchema.nullable(),
    actor: z.string().meta({ description: 'The authenticated principal, or `queue:<name>` for automation' }),
    onBehalfOf: z.string().optional().meta({ description: 'Whom a queue message claims to act for (not authenticated)' }),
    correlationId: z.string(),
    traceContext: TraceContextSchema.optional().meta({ description: 'The W3C trace the request belongs to' }),
    channel: z.enum(['http', 'queue']),
    acceptedAt: TIMESTAMP,
    completedAt: TIMESTAMP.nullable(),
    auditSequence: z.int().nullable(),
    ticket: z.int().nullable().meta({ description: "Its place in its SIP address's waiting list" }),
  })
  .meta({ id: 'ChangeRequest' });

export const EndpointSchema = z
  .strictObject({
    kind: z.literal('endpoint'),
    sipAddress: SIP_ADDRESS,
    poolFqdn: FQDN,
    displayName: z.string().nullable(),
    isDefault: z.boolean().meta({ description: "True for the pool's system-owned default endpoint" }),
    createdAt: TIMESTAMP,
    changeRequestId: z.uuid().nullable(),
  })
  .meta({ id: 'Endpoint' });

export const DirectoryUserSchema = z
  .strictObject({ kind: z.literal('user'), sipAddress: SIP_ADDRESS, displayName: z.string().nullable(), addedAt: TIMESTAMP })
  .meta({ id: 'DirectoryUser' });

export const SipDomainSchema = z.strictObject({ name: FQDN, addedAt: TIMESTAMP }).meta({ id: 'SipDomain' });

export const PoolSchema = z
  .strictObject({
    fqdn: FQDN,
    defaultEndpointSipAddress: SIP_ADDRESS,
    adminEndpointSipAddress: SIP_ADDRESS.nullable(),
    registeredAt: TIMESTAMP,
  })
  .meta({ id: 'PersistentChatPool' });

export const TopologySchema = z
  .strictObject({
    sipDomains: z.array(SipDomainSchema),
    pools: z.array(PoolSchema.extend({ defaultEndpoint: EndpointSchema.nullable() })),
    users: z.array(DirectoryUserSchema),
  })
  .meta({ id: 'Topology' });

/** A page of results; `nextCursor` fetches the next one (null on the last page). */
export function pageSchemaOf<T extends z.ZodType>(item: T, id: string) {
  return z.strictObject({ items: z.array(item), nextCursor: z.string().nullable() }).meta({ id });
}

export const ChangeRequestPageSchema = pageSchemaOf(ChangeRequestSchema, 'ChangeRequestPage');
export const EndpointPageSchema = pageSchemaOf(EndpointSchema, 'EndpointPage');

/** POST /api/change-requests?dryRun=true: the outcome the request would have now; nothing changes. */
export const PredictionSchema = z
  .strictObject({
    dryRun: z.literal(true),
    request: ChangeRequestBodySchema,
    outcome: z.enum(['applied', 'rejected']),
    reason: ReasonSchema.nullable(),
    before: z.unknown().meta({ description: 'The holder of the address now (an endpoint, a directory user, or null)' }),
    after: z.unknown().meta({ description: 'The holder it would have afterwards' }),
  })
  .meta({ id: 'Prediction' });

const OUTCOME_CODES = [...new Set([...Object.values(RejectionCode), ...Object.values(FailureCode), ...Object.values(TopologyCode)])];

export const AuditRecordSchema = z
  .strictObject({
    sequence: z.int(),
    time: TIMESTAMP,
    id: z.string(),
    actor: z.string(),
    onBehalfOf: z.string().optional(),
    action: z.enum(Object.values(AuditAction)),
    subject: z.string().meta({ description: 'A SIP address, or a topology object such as pool:pcpool.contoso.com' }),
    changeRequestId: z.string().nullable(),
    correlationId: z.string(),
    causationId: z.string().nullable(),
    outcome: z.union([
      z.strictObject({ status: z.literal('applied') }),
      z.strictObject({ status: z.enum(['rejected', 'failed']), code: z.enum(OUTCOME_CODES), message: z.string() }),
    ]),
    before: z.unknown(),
    after: z.unknown(),
    previousHash: z.string().meta({ description: 'The hash of the record before it (hex SHA-256)' }),
    hash: z.string().meta({ description: 'The hash of this record (hex SHA-256)' }),
  })
  .meta({ id: 'AuditRecord' });

export const AuditRecordPageSchema = pageSchemaOf(AuditRecordSchema, 'AuditRecordPage');

const HeadSchema = z.strictObject({ sequence: z.int(), hash: z.string(), time: TIMESTAMP.nullable() });
const ChainBreakSchema = z
  .strictObject({ sequence: z.int(), kind: z.string(), detail: z.string() })
  .meta({ description: 'Where the chain breaks and why' });

export const VerificationReportSchema = z
  .strictObject({
    intact: z.boolean(),
    recordsChecked: z.int(),
    head: HeadSchema,
    firstBreak: ChainBreakSchema.nullable(),
    breaks: z.array(ChainBreakSchema),
    checkpoints: z.strictObject({
      checked: z.int(),
      newest: z.strictObject({ sequence: z.int(), time: TIMESTAMP, keyId: z.string().nullable() }).nullable(),
      signingKey: z.enum(['configured', 'not configured']),
      byKey: z.array(z.strictObject({ keyId: z.string().nullable(), checkpoints: z.int() })),
    }),
    mode: z.enum(['incremental', 'full']).optional(),
    verifiedFrom: z.int().optional().meta({ description: 'The lowest sequence walked' }),
    basedOn: z
      .strictObject({ id: z.string(), sequence: z.int() })
      .nullable()
      .optional()
      .meta({ description: 'The signed verification record an incremental run started from' }),
    fullBecause: z.string().nullable().optional().meta({ description: 'Why a run asked to be incremental was full' }),
  })
  .meta({ id: 'VerificationReport' });

const JwkSchema = z
  .union([
    z.strictObject({
      kty: z.literal('OKP'),
      crv: z.literal('Ed25519'),
      x: z.string(),
      kid: z.string(),
      alg: z.literal('EdDSA'),
      use: z.literal('sig'),
    }),
    z.strictObject({
      kty: z.literal('EC'),
      crv: z.literal('P-256'),
      x: z.string(),
      y: z.string(),
      kid: z.string(),
      alg: z.literal('ES256'),
      use: z.literal('sig'),
    }),
  ])
  .meta({ id: 'Jwk', description: 'A public key (RFC 7517; x, y base64url); kid is the keyId checkpoints name' });

export const JwkSetSchema = z
  .strictObject({
    keys: z.array(JwkSchema),
    missing: z
      .array(z.string())
      .optional()
      .meta({ description: 'Key ids stored checkpoints name that no configured key resolves (present only when there are any)' }),
  })
  .meta({ id: 'JwkSet' });
export const AuditTimelineSchema = z
  .strictObject({
    timeZone: z.string().meta({ description: 'The IANA time zone the days are cut in' }),
    days: z.array(
      z.strictObject({
        day: z.string().meta({ description: 'YYYY-MM-DD in timeZone' }),
        applied: z.int(),
        rejected: z.int(),
        failed: z.int(),
      }),
    ),
    recordsCounted: z.int(),
    complete: z.boolean().meta({ description: 'False when more records matched than one request counts (the export bound)' }),
    countedSince: TIMESTAMP.nullable().meta({ description: 'The time of the oldest record counted' }),
  })
  .meta({ id: 'AuditTimeline' });

export const CheckpointSchema = z
  .strictObject({
    sequence: z.int().meta({ description: 'The number of records the log held: the checkpoint covers records 1 to sequence' }),
    hash: z.string().meta({ description: 'The hash of record `sequence` (hex SHA-256)' }),
    time: TIMESTAMP,
    keyId: z.string().optional().meta({ description: "The signing key's id (absent on v1 checkpoints, made before key ids)" }),
    algorithm: z.enum(['EdDSA', 'ES256']).optional(),
    signature: z.string().meta({ description: 'Base64 signature over the checkpoint statement' }),
  })
  .meta({ id: 'Checkpoint' });

const ListedCheckpointSchema = CheckpointSchema.extend({
  witnesses: z
    .strictObject({
      event: z
        .enum(['published', 'pending'])
        .meta({ description: 'pending while its pchat.audit.checkpoint.v1 event waits in the outbox' }),
      blob: z.enum(['written', 'pending', 'off']).meta({ description: 'Whether the blob witness (WORM container) holds its copy' }),
    })
    .meta({ description: 'What the witnesses have of it (not signed)' }),
}).meta({ id: 'ListedCheckpoint' });

export const CheckpointPageSchema = z
  .strictObject({ items: z.array(ListedCheckpointSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'CheckpointPage' });

export const VerificationOperationSchema = z
  .strictObject({
    id: z.string(),
    mode: z.enum(['incremental', 'full']),
    status: z.enum(['running', 'succeeded', 'failed']),
    requestedBy: z.string(),
    createdAt: TIMESTAMP,
    updatedAt: TIMESTAMP,
    progress: z.strictObject({ recordsChecked: z.int(), recordsToCheck: z.int() }),
    result: VerificationReportSchema.nullable(),
    error: z.strictObject({ code: z.string(), message: z.string() }).nullable(),
  })
  .meta({ id: 'VerificationOperation' });

export const LivenessSchema = z.strictObject({ status: z.literal('ok') });
export const ReadinessSchema = z.strictObject({
  status: z.enum(['ready', 'unavailable']),
  checks: z
    .object({ storage: z.enum(['ok', 'unavailable']), messaging: z.enum(['ok', 'unavailable']) })
    .optional()
    .meta({ description: 'Each check: only for a caller with a key' }),
});

// Compile-time ties: each domain type must be a valid value of its schema's output type.
type Describes<T, S extends z.ZodType> = T extends z.output<S> ? true : never;
const ties: Array<true> = [
  true satisfies Describes<Problem, typeof ProblemSchema>,
  true satisfies Describes<ChangeRequest, typeof ChangeRequestSchema>,
  true satisfies Describes<Endpoint, typeof EndpointSchema>,
  true satisfies Describes<DirectoryUser, typeof DirectoryUserSchema>,
  true satisfies Describes<SipDomain, typeof SipDomainSchema>,
  true satisfies Describes<PersistentChatPool, typeof PoolSchema>,
  true satisfies Describes<Topology, typeof TopologySchema>,
  true satisfies Describes<Page<Endpoint>, typeof EndpointPageSchema>,
  true satisfies Describes<Prediction & { dryRun: true; request: z.output<typeof ChangeRequestBodySchema> }, typeof PredictionSchema>,
  true satisfies Describes<AuditRecord, typeof AuditRecordSchema>,
  true satisfies Describes<VerificationReport, typeof VerificationReportSchema>,
  true satisfies Describes<AuditTimeline, typeof AuditTimelineSchema>,
  true satisfies Describes<{ items: ListedCheckpoint[]; nextCursor: string | null }, typeof CheckpointPageSchema>,
  true satisfies Describes<VerificationOperation, typeof VerificationOperationSchema>,
];
void ties;
