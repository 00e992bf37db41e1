import { z } from 'zod';
import { ChangeRequestBodySchema } from '../../domain/changeRequest';
import { RejectionCode, TopologyCode } from '../../domain/codes';
import { ErrorCode } from '../../domain/errors';
import { FqdnSchema, SipAddressSchema } from '../../domain/names';
import { Role } from '../../domain/principal';
import { CORRELATION_ID_PATTERN } from '../../domain/text';
import { TRACEPARENT_PATTERN } from '../../domain/traceContext';
import {
  AuditQuerySchema,
  AuditTimelineQuerySchema,
  VerificationParamsSchema,
  VerificationRequestSchema,
  VerifyQuerySchema,
} from './auditHttp';
import { CheckpointQuerySchema } from './auditCheckpointsHttp';
import { ChangeRequestParamsSchema, ChangeRequestQuerySchema, IDEMPOTENCY_KEY, SubmitQuerySchema } from './changeRequestsHttp';
import { EndpointQuerySchema, IdentityParamsSchema } from './endpointsHttp';
import { ProblemParamsSchema } from './problemPage';
import {
  AuditRecordPageSchema,
  AuditTimelineSchema,
  ChangeRequestPageSchema,
  ChangeRequestSchema,
  DirectoryUserSchema,
  EndpointPageSchema,
  EndpointSchema,
  JwkSetSchema,
  LivenessSchema,
  PoolSchema,
  PredictionSchema,
  ReadinessSchema,
  SipDomainSchema,
  TopologySchema,
  VerificationOperationSchema,
  VerificationReportSchema,
  CheckpointPageSchema,
} from './responseSchemas';
import { JWK_SET_MEDIA_TYPE } from './signingKeysHttp';
import { PoolBodySchema, UserBodySchema } from './topologyHttp';

/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the zod schemas the entrypoints validate
 * with (zod 4's own JSON Schema output, draft 2020-12, which is OpenAPI 3.1's dialect) and from the
 * response schemas in responseSchemas.ts. ROUTES below is the one table of every route: a test
 * compares it with the functions the app registers, in both directions.
 */

type JsonSchema = Record<string, unknown>;
type Method = 'get' | 'post' | 'put' | 'delete';

/** Who may call a route: anonymous, or a principal holding at least one of the roles. */
type Access = 'anonymous' | readonly Role[];

/** One response: a JSON body schema (zod), another media type, or no body. */
interface ResponseSpec {
  description: string;
  body?: z.ZodType;
  /** The body's media type: application/json unless it is a JSON-based one of its own (application/jwk-set+json). */
  bodyMediaType?: string;
  /** Non-JSON bodies: media type → schema (JSON Schema, as written). */
  content?: Record<string, JsonSchema>;
  headers?: readonly ResponseHeader[];
}

type ResponseHeader = 'Location' | 'Retry-After' | 'Idempotent-Replayed' | 'Content-Disposition' | 'X-Export-Limit' | 'Allow';

/** The problem statuses a route answers, each with the codes it can carry. */
type Problems = Partial<Record<400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503, readonly string[]>>;

interface RouteSpec {
  method: Method;
  /** The path under the server URL (/api), with {params} as the Functions route has them. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: readonly string[];
  access: Access;
  pathParams?: z.ZodObject;
  query?: z.ZodType;
  /** Request headers besides Authorization and X-Correlation-Id (every route takes those). */
  headers?: readonly ('Idempotency-Key' | 'traceparent' | 'tracestate')[];
  body?: { schema: z.ZodType; required: boolean };
  responses: Record<number, ResponseSpec>;
  problems?: Problems;
}

const READERS = [Role.reader, Role.submitter, Role.operator, Role.auditor] as const;
const OPERATORS = [Role.operator] as const;
const AUDITORS = [Role.auditor] as const;

/** The 400s every route that reads input can answer. */
const BAD_INPUT = [ErrorCode.validationFailed] as const;
/** A route with a JSON body: a missing or malformed body too. */
const BAD_BODY = [ErrorCode.validationFailed, ErrorCode.malformedJson, ErrorCode.bodyRequired] as const;
/** Storage or the transport is out (Retry-After), or the directory was busy. */
const UNAVAILABLE = [ErrorCode.serviceUnavailable, ErrorCode.concurrentChange] as const;
const BODY_LIMITS: Problems = { 413: [ErrorCode.bodyTooLarge], 415: [ErrorCode.unsupportedMediaType] };

const DocsAssetParamsSchema = z.object({ asset: z.string().meta({ description: 'One of the reference page assets' }) });

const TOPOLOGY_PUT = 'Created (Location names it), or 200 when it was there already';

/** Every route the app registers, with what it takes, answers and needs. */
export const ROUTES: readonly RouteSpec[] = [
  {
    method: 'get',
    path: '/health',
    operationId: 'getHealth',
    summary: 'Liveness: the process answers',
    tags: ['Health'],
    access: 'anonymous',
    responses: { 200: { description: 'Alive', body: LivenessSchema } },
  },
  {
    method: 'get',
    path: '/health/ready',
    operationId: 'getReadiness',
    summary: 'Readiness: storage and the message transport answer',
    description: 'Each check within 3 s. Anonymous callers see only the status; a caller with a key also sees each check.',
    tags: ['Health'],
    access: 'anonymous',
    responses: {
      200: { description: 'Ready', body: ReadinessSchema },
      503: { description: 'Not ready (Retry-After)', body: ReadinessSchema, headers: ['Retry-After'] },
    },
  },
  {
    method: 'post',
    path: '/change-requests',
    operationId: 'submitChangeRequest',
    summary: 'Submit a change request (New- or Remove-CsPersistentChatEndpoint)',
    description:
      'Queues a create or a delete and answers 202 with the request (`accepted`); `?dryRun=true` answers 200 with the predicted outcome and changes nothing. With `Idempotency-Key`, a retry of the same request gets the original 202 again.',
    tags: ['Change requests'],
    access: [Role.submitter],
    query: SubmitQuerySchema,
    headers: ['Idempotency-Key', 'traceparent', 'tracestate'],
    body: { schema: ChangeRequestBodySchema, required: true },
    responses: {
      200: { description: 'The dry run: the outcome the request would have now', body: PredictionSchema },
      202: {
        description: 'Accepted: follow it at Location',
        body: ChangeRequestSchema,
        headers: ['Location', 'Retry-After', 'Idempotent-Replayed'],
      },
    },
    problems: {
      400: BAD_BODY,
      ...BODY_LIMITS,
      422: [ErrorCode.idempotencyKeyReused],
      429: [ErrorCode.rateLimited],
      503: UNAVAILABLE,
    },
  },
  {
    method: 'get',
    path: '/change-requests',
    operationId: 'listChangeRequests',
    summary: 'List change requests, newest first',
    description: 'A submitter sees only its own requests; operators and auditors see all.',
    tags: ['Change requests'],
    access: [Role.submitter, Role.operator, Role.auditor],
    query: ChangeRequestQuerySchema,
    responses: { 200: { description: 'A page of change requests', body: ChangeRequestPageSchema } },
    problems: { 400: BAD_INPUT, 503: UNAVAILABLE },
  },
  {
    method: 'get',
    path: '/change-requests/{id}',
    operationId: 'getChangeRequest',
    summary: 'Get a change request and its status',
    description: "A submitter reads only its own: another principal's request answers 404, exactly as a missing one.",
    tags: ['Change requests'],
    access: [Role.submitter, Role.operator, Role.auditor],
    pathParams: ChangeRequestParamsSchema,
    responses: {
      200: { description: 'The change request (Retry-After while it is `accepted`)', body: ChangeRequestSchema, headers: ['Retry-After'] },
    },
    problems: { 400: BAD_INPUT, 404: [ErrorCode.changeRequestNotFound], 503: UNAVAILABLE },
  },
  {
    method: 'post',
    path: '/change-requests/{id}/cancel',
    operationId: 'cancelChangeRequest',
    summary: 'Cancel a change request that is still accepted',
    description: "A submitter cancels only its own (another's answers 404). Audited as `change-request.canceled`.",
    tags: ['Change requests'],
    access: [Role.submitter, Role.operator],
    pathParams: ChangeRequestParamsSchema,
    responses: { 200: { description: 'Canceled: status `canceled`, reason code `canceled`', body: ChangeRequestSchema } },
    problems: { 400: BAD_INPUT, 404: [ErrorCode.changeRequestNotFound], 409: ['change_request_settled'], 503: UNAVAILABLE },
  },
  {
    method: 'get',
    path: '/endpoints',
    operationId: 'listEndpoints',
    summary: 'List Persistent Chat endpoints (Get-CsPersistentChatEndpoint)',
    description: '`sipAddress` and `displayName` take `*` wildcards (at most 256 characters and 16 `*`).',
    tags: ['Endpoints'],
    access: READERS,
    query: EndpointQuerySchema,
    responses: { 200: { description: 'A page of endpoints', body: EndpointPageSchema } },
    problems: { 400: BAD_INPUT, 503: UNAVAILABLE },
  },
  {
    method: 'get',
    path: '/endpoints/{identity}',
    operationId: 'getEndpoint',
    summary: 'Get one endpoint by SIP address or display name',
    tags: ['Endpoints'],
    access: READERS,
    pathParams: IdentityParamsSchema,
    responses: { 200: { description: 'The endpoint', body: EndpointSchema } },
    problems: { 400: BAD_INPUT, 404: [RejectionCode.endpointNotFound], 409: ['endpoint_identity_ambiguous'], 503: UNAVAILABLE },
  },
  {
    method: 'get',
    path: '/topology',
    operationId: 'getTopology',
    summary: 'Get the SIP domains, pools and directory users',
    tags: ['Topology'],
    access: READERS,
    responses: { 200: { description: 'The topology', body: TopologySchema } },
    problems: { 503: UNAVAILABLE },
  },
  {
    method: 'put',
    path: '/topology/sip-domains/{domain}',
    operationId: 'addSipDomain',
    summary: 'Add a supported SIP domain',
    tags: ['Topology'],
    access: OPERATORS,
    pathParams: z.object({ domain: FqdnSchema }),
    responses: {
      200: { description: 'Already supported', body: SipDomainSchema },
      201: { description: TOPOLOGY_PUT, body: SipDomainSchema, headers: ['Location'] },
    },
    problems: { 400: BAD_INPUT, 503: UNAVAILABLE },
  },
  {
    method: 'delete',
    path: '/topology/sip-domains/{domain}',
    operationId: 'removeSipDomain',
    summary: 'Remove a SIP domain no endpoint or user uses',
    tags: ['Topology'],
    access: OPERATORS,
    pathParams: z.object({ domain: FqdnSchema }),
    responses: { 204: { description: 'Removed' } },
    problems: { 400: BAD_INPUT, 404: [TopologyCode.sipDomainNotFound], 409: [TopologyCode.sipDomainInUse], 503: UNAVAILABLE },
  },
  {
    method: 'put',
    path: '/topology/pools/{fqdn}',
    operationId: 'registerPool',
    summary: 'Register a Persistent Chat pool (and its default endpoint)',
    description: 'Without a body, the default endpoint is sip:<first label>@<rest of the FQDN>.',
    tags: ['Topology'],
    access: OPERATORS,
    pathParams: z.object({ fqdn: FqdnSchema }),
    body: { schema: PoolBodySchema, required: false },
    responses: {
      200: { description: 'Already registered so', body: PoolSchema },
      201: { description: TOPOLOGY_PUT, body: PoolSchema, headers: ['Location'] },
    },
    problems: {
      400: BAD_BODY,
      ...BODY_LIMITS,
      409: [TopologyCode.poolConflict, TopologyCode.sipDomainNotSupported, TopologyCode.sipAddressInUse],
      503: UNAVAILABLE,
    },
  },
  {
    method: 'delete',
    path: '/topology/pools/{fqdn}',
    operationId: 'retirePool',
    summary: 'Retire a pool that has no admin-created endpoint',
    tags: ['Topology'],
    access: OPERATORS,
    pathParams: z.object({ fqdn: FqdnSchema }),
    responses: { 204: { description: 'Retired' } },
    problems: { 400: BAD_INPUT, 404: [TopologyCode.poolNotFound], 409: [TopologyCode.poolHasEndpoint], 503: UNAVAILABLE },
  },
  {
    method: 'put',
    path: '/topology/users/{sipAddress}',
    operationId: 'addDirectoryUser',
    summary: 'Add a directory user holding a SIP address (such as the Lync 2010 Group Chat user)',
    tags: ['Topology'],
    access: OPERATORS,
    pathParams: z.object({ sipAddress: SipAddressSchema }),
    body: { schema: UserBodySchema, required: false },
    responses: {
      200: { description: 'Already there', body: DirectoryUserSchema },
      201: { description: TOPOLOGY_PUT, body: DirectoryUserSchema, headers: ['Location'] },
    },
    problems: {
      400: BAD_BODY,
      ...BODY_LIMITS,
      409: [TopologyCode.sipDomainNotSupported, TopologyCode.sipAddressInUse],
      503: UNAVAILABLE,
    },
  },
  {
    method: 'delete',
    path: '/topology/users/{sipAddress}',
    operationId: 'removeDirectoryUser',
    summary: 'Remove a directory user',
    tags: ['Topology'],
    access: OPERATORS,
    pathParams: z.object({ sipAddress: SipAddressSchema }),
    responses: { 204: { description: 'Removed' } },
    problems: { 400: BAD_INPUT, 404: [TopologyCode.userNotFound], 503: UNAVAILABLE },
  },
  {
    method: 'get',
    path: '/audit',
    operationId: 'listAuditRecords',
    summary: 'List audit records newest first, or export them (ndjson, csv)',
    description: 'format=json (default) answers a page; ndjson and csv stream the whole filtered result, up to X-Export-Limit records.',
    tags: ['Audit'],
    access: AUDITORS,
    query: AuditQuerySchema,
    responses: {
      200: {
        description: 'A page of records, or the export',
        body: AuditRecordPageSchema,
        content: {
          'application/x-ndjson': { type: 'string', description: 'One audit record per line' },
          'text/csv': { type: 'string', description: 'RFC 4180; formula-like fields are prefixed with an apostrophe' },
        },
        headers: ['Content-Disposition', 'X-Export-Limit'],
      },
    },
    problems: { 400: BAD_INPUT, 503: UNAVAILABLE },
  },
  {
    method: 'get',
    path: '/audit/timeline',
    operationId: 'auditTimeline',
    summary: 'Count applied, rejected and failed audit records per day of a time zone, for the filters',
    description:
      'Takes the filters of GET /audit and an IANA timeZone (default UTC). Counts at most X-Export-Limit records, newest first; past that, complete is false and countedSince says how far back it counted.',
    tags: ['Audit'],
    access: AUDITORS,
    query: AuditTimelineQuerySchema,
    responses: { 200: { description: 'The counts per day, oldest day first', body: AuditTimelineSchema } },
    problems: { 400: BAD_INPUT, 503: UNAVAILABLE },
  },
  {
    method: 'get',
    path: '/audit/verify',
    operationId: 'verifyAuditLog',
    summary: "Verify the audit log's integrity and signed checkpoints, inside the request",
    description:
      'Incremental (the records appended since the last verification, plus every checkpoint); full=true walks the whole log. More than 20,000 records to walk answers 422 verification_too_large: use POST /audit/verifications.',
    tags: ['Audit'],
    access: AUDITORS,
    query: VerifyQuerySchema,
    responses: { 200: { description: 'What the verifier found (intact, or where the log first breaks)', body: VerificationReportSchema } },
    problems: { 400: BAD_INPUT, 422: [ErrorCode.verificationTooLarge], 503: UNAVAILABLE },
  },
  {
    method: 'post',
    path: '/audit/verifications',
    operationId: 'startAuditVerification',
    summary: 'Start an asynchronous verification of the audit log (incremental or full)',
    description:
      'Answers 202 at once; the verification runs in the background in slices, and GET at Location answers its status, progress and result.',
    tags: ['Audit'],
    access: AUDITORS,
    query: z.strictObject({}),
    body: { schema: VerificationRequestSchema, required: false },
    responses: {
      202: { description: 'Started: follow it at Location', body: VerificationOperationSchema, headers: ['Location', 'Retry-After'] },
    },
    problems: { 400: BAD_BODY, ...BODY_LIMITS, 503: UNAVAILABLE },
  },
  {
    method: 'get',
    path: '/audit/verifications/{id}',
    operationId: 'getAuditVerification',
    summary: 'An asynchronous verification: status, progress and result',
    tags: ['Audit'],
    access: AUDITORS,
    pathParams: VerificationParamsSchema,
    responses: {
      200: { description: 'The verification (Retry-After while it runs)', body: VerificationOperationSchema, headers: ['Retry-After'] },
    },
    problems: { 400: BAD_INPUT, 404: [ErrorCode.verificationNotFound], 503: UNAVAILABLE },
  },
  {
    method: 'get',
    path: '/audit/signing-keys',
    operationId: 'listSigningKeys',
    summary: "The public keys that verify the audit log's signed checkpoints (a JWK set)",
    description:
      'Every key whose `kid` a checkpoint may name: the current signing key, the keys stored checkpoints name and the verify-only keys (AUDIT_VERIFY_KEYS). `missing` lists key ids stored checkpoints name that no configured key resolves (present only then).',
    tags: ['Audit'],
    access: AUDITORS,
    query: z.strictObject({}),
    responses: { 200: { description: 'The JWK set (RFC 7517)', body: JwkSetSchema, bodyMediaType: JWK_SET_MEDIA_TYPE } },
    problems: { 400: BAD_INPUT, 503: UNAVAILABLE },
  },
  {
    method: 'get',
    path: '/audit/checkpoints',
    operationId: 'listAuditCheckpoints',
    summary: 'List the signed audit checkpoints newest first, with their witnesses, or all of them (ndjson)',
    description:
      'format=json (default) answers a page, each checkpoint with `witnesses` (its event published or pending, its blob copy written, pending or off; not signed); ndjson streams every checkpoint (its signed members only), the checkpoints file of an offline verification.',
    tags: ['Audit'],
    access: AUDITORS,
    query: CheckpointQuerySchema,
    responses: {
      200: {
        description: 'A page of checkpoints, or all of them',
        body: CheckpointPageSchema,
        content: { 'application/x-ndjson': { type: 'string', description: 'One checkpoint per line, newest first' } },
        headers: ['Content-Disposition'],
      },
    },
    problems: { 400: BAD_INPUT, 503: UNAVAILABLE },
  },
  {
    method: 'get',
    path: '/review',
    operationId: 'getReviewPage',
    summary: "The auditors' review page (HTML; it holds no data)",
    tags: ['Pages'],
    access: 'anonymous',
    responses: { 200: { description: 'The page', content: { 'text/html': { type: 'string' } } } },
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApiDocument',
    summary: 'This OpenAPI 3.1 document',
    tags: ['Pages'],
    access: 'anonymous',
    responses: { 200: { description: 'The document', content: { 'application/json': { type: 'object' } } } },
  },
  {
    method: 'get',
    path: '/docs',
    operationId: 'getApiReference',
    summary: 'The API reference page (renders this document)',
    tags: ['Pages'],
    access: 'anonymous',
    responses: { 200: { description: 'The page', content: { 'text/html': { type: 'string' } } } },
  },
  {
    method: 'get',
    path: '/docs/{asset}',
    operationId: 'getApiReferenceAsset',
    summary: "The reference page's script and style sheets",
    tags: ['Pages'],
    access: 'anonymous',
    pathParams: DocsAssetParamsSchema,
    responses: {
      200: { description: 'The asset', content: { 'text/javascript': { type: 'string' }, 'text/css': { type: 'string' } } },
    },
    problems: { 404: ['asset_not_found'] },
  },
  {
    method: 'get',
    path: '/problems/{code}',
    operationId: 'getProblemType',
    summary: 'What a problem code means (the page a problem `type` URI resolves to)',
    tags: ['Pages'],
    access: 'anonymous',
    pathParams: ProblemParamsSchema,
    responses: { 200: { description: 'The explanation', content: { 'text/html': { type: 'string' } } } },
    problems: { 404: ['problem_type_not_found'] },
  },
];

// ---- generation ----

const SCHEMAS = '#/components/schemas/';

/**
 * A zod schema as JSON Schema 2020-12: what a client may send (io: input). A named schema inside it
 * (zod `.meta({ id })`) is referenced from the document's components rather than repeated.
 */
function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  const generated = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    // Refinements and transforms run only in the service; a brand or transform has no JSON form.
    unrepresentable: 'any',
  }) as JsonSchema;
  const { $schema: _dialect, $defs: _named, ...json } = generated;
  void _dialect;
  void _named;
  // Named schemas are all in components (componentSchemas), so their refs point there.
  return JSON.parse(JSON.stringify(json).replaceAll('"#/$defs/', `"${SCHEMAS}`)) as JsonSchema;
}

/** Every named schema (zod `.meta({ id })`) the routes use, as components. */
function componentSchemas(): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(z.globalRegistry, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
    uri: (id) => `${SCHEMAS}${id}`,
  }) as { schemas: Record<string, JsonSchema> };
  return Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => {
      const { $schema: _dialect, $id: _id, ...rest } = schema;
      void _dialect;
      void _id;
      return [id, rest];
    }),
  );
}

function schemaRef(schema: z.ZodType): JsonSchema {
  const id = z.globalRegistry.get(schema)?.id;
  return typeof id === 'string' ? { $ref: `${SCHEMAS}${id}` } : jsonSchemaOf(schema);
}

/** Path or query parameters from a zod object schema: one parameter per property. */
function parametersOf(schema: z.ZodType, location: 'path' | 'query'): JsonSchema[] {
  const json = jsonSchemaOf(schema);
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: location,
      required: location === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

const HEADER_PARAMETERS: Record<string, JsonSchema> = {
  'Idempotency-Key': {
    name: 'Idempotency-Key',
    in: 'header',
    description: 'A retry with the same key and request gets the original 202 (1-255 visible ASCII characters, plain or quoted).',
    schema: { type: 'string', pattern: IDEMPOTENCY_KEY.source },
  },
  traceparent: {
    name: 'traceparent',
    in: 'header',
    description: 'W3C Trace Context: the request joins this trace (a malformed one is ignored).',
    schema: { type: 'string', pattern: TRACEPARENT_PATTERN.source },
  },
  tracestate: { name: 'tracestate', in: 'header', description: 'W3C Trace Context vendor state.', schema: { type: 'string' } },
};

const RESPONSE_HEADERS: Record<ResponseHeader, JsonSchema> = {
  Location: { description: 'The absolute URL of what was created', schema: { type: 'string', format: 'uri' } },
  'Retry-After': { description: 'Seconds to wait before asking again', schema: { type: 'integer', minimum: 0 } },
  'Idempotent-Replayed': {
    description: '`true` when this is the original answer to an earlier request with the same key',
    schema: { type: 'string', enum: ['true'] },
  },
  'Content-Disposition': { description: 'An export is an attachment', schema: { type: 'string' } },
  'X-Export-Limit': { description: 'The most records an export holds', schema: { type: 'integer' } },
  Allow: { description: 'The methods the route takes', schema: { type: 'string' } },
};

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'The input is invalid: `errors` names each field (pointer) and the rule it broke',
  401: 'No valid credentials (WWW-Authenticate says how to authenticate)',
  403: "The principal holds none of the route's roles",
  404: 'Not found',
  409: 'Refused by a rule',
  413: 'The body is over 64 KiB',
  415: 'The body is not application/json',
  422: 'The Idempotency-Key was used for a different request',
  429: 'Too many submissions from this principal (Retry-After)',
  503: 'Storage or the message transport is unreachable (Retry-After)',
};

/** Extra members some problems carry, per code. */
const PROBLEM_EXTENSIONS: Record<string, JsonSchema> = {
  change_request_settled: {
    changeRequestStatus: { type: 'string', enum: ['applied', 'rejected', 'failed', 'canceled'], description: 'The settled status' },
  },
  endpoint_identity_ambiguous: {
    matches: { type: 'array', items: { type: 'string' }, description: 'The SIP addresses of the endpoints with that display name' },
  },
};

function problemResponse(status: number, codes: readonly string[]): JsonSchema {
  const extensions = Object.assign({}, ...codes.map((code) => PROBLEM_EXTENSIONS[code] ?? {})) as JsonSchema;
  const headers = status === 429 || status === 503 ? { 'Retry-After': RESPONSE_HEADERS['Retry-After'] } : {};
  return {
    description: `${PROBLEM_DESCRIPTIONS[status] ?? 'Error'}: ${codes.map((code) => `\`${code}\``).join(', ')}`,
    headers: { ...correlationHeader(), ...headers },
    content: {
      'application/problem+json': {
        schema: {
          allOf: [
            { $ref: `${SCHEMAS}Problem` },
            { type: 'object', properties: { status: { const: status }, code: { enum: [...codes] }, ...extensions } },
          ],
        },
      },
    },
  };
}

function correlationHeader(): JsonSchema {
  return { 'X-Correlation-Id': { $ref: '#/components/headers/X-Correlation-Id' } };
}

function responseOf(spec: ResponseSpec): JsonSchema {
  const content: JsonSchema = {};
  if (spec.body) content[spec.bodyMediaType ?? 'application/json'] = { schema: schemaRef(spec.body) };
  for (const [mediaType, schema] of Object.entries(spec.content ?? {})) content[mediaType] = { schema };
  const headers = Object.fromEntries((spec.headers ?? []).map((name) => [name, RESPONSE_HEADERS[name]]));
  return {
    description: spec.description,
    headers: { ...correlationHeader(), ...headers },
    ...(Object.keys(content).length ? { content } : {}),
  };
}

/** The problems every route answers by its access: 401 and 403 for those that need a role. */
function problemsOf(route: RouteSpec): Problems {
  if (route.access === 'anonymous') return route.problems ?? {};
  return { 401: [ErrorCode.unauthenticated], 403: [ErrorCode.forbidden], ...route.problems };
}

function operationOf(route: RouteSpec): JsonSchema {
  const parameters = [
    ...(route.pathParams ? parametersOf(route.pathParams, 'path') : []),
    ...(route.query ? parametersOf(route.query, 'query') : []),
    ...(route.headers ?? []).map((name) => HEADER_PARAMETERS[name]),
    { $ref: '#/components/parameters/X-Correlation-Id' },
  ];
  const responses: JsonSchema = {};
  for (const [status, spec] of Object.entries(route.responses)) responses[status] = responseOf(spec);
  for (const [status, codes] of Object.entries(problemsOf(route))) responses[status] = problemResponse(Number(status), codes);
  const roles = route.access === 'anonymous' ? [] : route.access;
  const needs = roles.length ? `Needs one of the roles: ${roles.join(', ')}.` : 'Anonymous.';
  return {
    operationId: route.operationId,
    summary: route.summary,
    description: route.description ? `${route.description}\n\n${needs}` : needs,
    tags: [...route.tags],
    // OpenAPI 3.1: for a non-OAuth scheme the array lists the roles needed; the alternatives are "any of".
    security: roles.map((role) => ({ bearer: [role] })),
    'x-required-roles': [...roles],
    parameters,
    ...(route.body
      ? {
          requestBody: {
            required: route.body.required,
            content: { 'application/json': { schema: schemaRef(route.body.schema) } },
          },
        }
      : {}),
    responses,
  };
}

function pathsOf(routes: readonly RouteSpec[]): JsonSchema {
  const paths: Record<string, JsonSchema> = {};
  for (const route of routes) paths[route.path] = { ...paths[route.path], [route.method]: operationOf(route) };
  return paths;
}

/**
 * The OpenAPI 3.1 document. `serverUrl` is where the API lives: the public base URL plus /api when
 * one is configured, else the relative `/api` (resolved against wherever the document was fetched).
 */
export function openApiDocument(serverUrl = '/api'): JsonSchema {
  return {
    openapi: '3.1.1',
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    info: {
      title: 'Persistent Chat endpoint change requests',
      version: '1.0.0',
      summary: 'Change requests for Lync Server 2013 / Skype for Business Server 2015 Persistent Chat endpoints',
      description:
        'New-, Get- and Remove-CsPersistentChatEndpoint as an HTTP API: changes are submitted as change requests, applied in order per SIP address, and audited. Errors are RFC 9457 problem details with a stable `code` and an `errors` list naming each field.',
    },
    servers: [{ url: serverUrl }],
    tags: ['Change requests', 'Endpoints', 'Topology', 'Audit', 'Health', 'Pages'].map((name) => ({ name })),
    paths: pathsOf(ROUTES),
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'Locally (AUTH_MODE=keys) an API key from LOCAL_API_KEYS: `Authorization: Bearer <key>`; the key names the principal and its roles. In Azure (AUTH_MODE=easyauth) an Entra ID access token for the API app registration; the roles are its app-role claims (submitter, operator, auditor, reader).',
        },
      },
      parameters: {
        'X-Correlation-Id': {
          name: 'X-Correlation-Id',
          in: 'header',
          description: 'Ties the request to its processing, audit records and events (one is made when absent).',
          schema: { type: 'string', pattern: CORRELATION_ID_PATTERN.source },
        },
      },
      headers: {
        'X-Correlation-Id': {
          description: "The request's correlation id (the caller's, or the one made for it)",
          schema: { type: 'string' },
        },
      },
    },
  };
}
