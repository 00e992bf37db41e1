import net from 'node:net';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { RejectionCode, TopologyCode } from '../../shared/domain/codes';
import { AuditAction } from '../../shared/domain/audit';
import type { E2EEnvironment } from './localHost';
import { fragment, hostileText, LONE_SURROGATES, ODATA_FRAGMENTS, pathologicalWildcard, wrongType } from './hostileStrings';
import type { Write } from './hostileWrites';

/**
 * The HTTP side of the hostile input suite: credentials, the real names inputs aim at, one
 * generator per route group, sending an input (fetch, or raw bytes on a socket for what fetch
 * refuses to send) and the properties every answer must have.
 */

/** The roles of issue 9, and `all` (every role) for the suite's own set-up calls. */
export type Role = 'submitter' | 'operator' | 'auditor' | 'reader' | 'all';

/** The one place the suite makes credentials: the environment's API key for the role. */
export function credentialFor(env: E2EEnvironment, role: Role): Record<string, string> {
  return { authorization: `Bearer ${env.keys[role]}` };
}

/** Which credential an input carries: the route's role, a role the route refuses, none, or a hostile Authorization value. */
export type CredentialChoice = { kind: 'role'; role: Role } | { kind: 'none' } | { kind: 'authorization'; value: string };

/** How an input sets X-Correlation-Id: the suite's own tag (to attribute its writes), none, or a hostile value. */
export type CorrelationChoice = { kind: 'tag' } | { kind: 'absent' } | { kind: 'given'; value: string };

/** A request a hostile caller sends: fetch sends it, unless `raw` gives the bytes. */
export interface HostileRequest {
  /** The route group, for the figures (`POST /change-requests`). */
  route: string;
  method: string;
  /** The path under /api, percent-encoded as it goes on the wire. */
  path: string;
  /** Query parameters (decoded text; repeated names allowed), encoded when sent. */
  query: Array<[string, string]>;
  /** Extra headers (any text; sent as the UTF-8 bytes a raw client would send). */
  headers: Array<[string, string]>;
  body?: { bytes: Buffer; chunked: boolean };
  credential: CredentialChoice;
  correlation: CorrelationChoice;
  /** Bytes to write on a socket instead of using fetch: a malformed Host, request line or header. */
  raw?: RawRequest;
}

/** A request fetch cannot send: built from the host's address and the input's correlation tag. */
export interface RawRequest {
  name: string;
  build(authority: string, tag: string): Buffer;
  /** A malformed request must be refused with a 4xx; an odd but valid one must only not fail (< 500). */
  expect: '4xx' | 'below-500';
}

/** The names an input can aim at: the suite's own topology, a change request, fresh names. */
export interface World {
  domain: string;
  pools: string[];
  users: string[];
  endpoints: string[];
  /** Addresses in the domain that nothing holds yet. */
  freeAddresses: string[];
  changeRequestIds: string[];
  correlationIds: string[];
}

/** An answer: what came back, and how long it took. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
  ms: number;
}

/** No input may take longer than this to be answered (a hang is a failure). */
export const ANSWER_TIMEOUT_MS = 15_000;

// ---------------------------------------------------------------------------------------------
// Encoding

/** Percent-encodes the UTF-8 bytes of `text`, keeping RFC 3986 unreserved characters (a lone surrogate becomes U+FFFD's bytes). */
export function pct(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * A path segment carrying `text` to a route parameter. A segment of dots alone (or `%2e`) is a dot
 * segment that fetch resolves away before sending; those are the raw group's to send.
 */
export function segment(text: string): string {
  const encoded = pct(text);
  if (encoded === '') return '%20';
  return /^(?:\.|%2e){1,2}$/i.test(encoded) ? `${encoded}%20` : encoded;
}

/**
 * A header value as the bytes a client would send for `text` (UTF-8, read back as Latin-1), less the
 * control characters fetch refuses to send (the raw group sends those).
 */
export function headerValue(text: string): string {
  return Buffer.from(text, 'utf8')
    .toString('latin1')
    .replace(/[^\t\x20-\x7e\x80-\xff]/g, '');
}

/** The query string of an input. */
function queryString(query: Array<[string, string]>): string {
  return query.length === 0 ? '' : `?${query.map(([key, value]) => `${pct(key)}=${pct(value)}`).join('&')}`;
}

/** Text no longer than `max` characters, for messages (a 66,000-character input is shown by its shape). */
export function clip(text: string, max = 160): string {
  return text.length <= max ? text : `${text.slice(0, max)}…(${text.length} chars)`;
}

/** An input as one line: method, path, the headers and body it carries (clipped). */
export function describeRequest(request: HostileRequest): string {
  if (request.raw) return `raw ${request.raw.name}: ${JSON.stringify(clip(request.raw.build('HOST', 'TAG').toString('latin1'), 400))}`;
  const parts = [`${request.method} /api${request.path}${queryString(request.query)}`];
  parts.push(`credential=${JSON.stringify(request.credential)}`, `correlation=${JSON.stringify(request.correlation)}`);
  for (const [name, value] of request.headers) parts.push(`${name}: ${JSON.stringify(clip(value, 120))}`);
  if (request.body)
    parts.push(
      `body(${request.body.bytes.length} bytes${request.body.chunked ? ', chunked' : ''}): ${JSON.stringify(clip(request.body.bytes.toString('utf8'), 300))}`,
    );
  return clip(parts.join(' | '), 1200);
}

// ---------------------------------------------------------------------------------------------
// Sending

/** The headers an input's credential and correlation choice add. */
function identityHeaders(env: E2EEnvironment, request: HostileRequest, tag: string): Record<string, string> {
  const headers: Record<string, string> = {};
  if (request.credential.kind === 'role') Object.assign(headers, credentialFor(env, request.credential.role));
  if (request.credential.kind === 'authorization') headers.authorization = headerValue(request.credential.value);
  if (request.correlation.kind === 'tag') headers['x-correlation-id'] = tag;
  if (request.correlation.kind === 'given') headers['x-correlation-id'] = headerValue(request.correlation.value);
  return headers;
}

/** A body as a stream, so fetch sends it chunked with no Content-Length. */
function chunkedBody(bytes: Buffer): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(offset, offset + 16 * 1024));
      offset += 16 * 1024;
    },
  });
}

/** Sends an input with fetch and reads the whole answer; a timeout is an answer with status 0. */
async function sendWithFetch(env: E2EEnvironment, request: HostileRequest, tag: string): Promise<Answer> {
  const headers: Record<string, string> = {};
  for (const [name, value] of request.headers) headers[name] = headerValue(value);
  Object.assign(headers, identityHeaders(env, request, tag));
  const init: RequestInit & { duplex?: 'half' } = {
    method: request.method,
    headers,
    redirect: 'manual',
    signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
  };
  if (request.body) {
    init.body = request.body.chunked ? chunkedBody(request.body.bytes) : new Uint8Array(request.body.bytes);
    if (request.body.chunked) init.duplex = 'half';
  }
  const started = performance.now();
  try {
    const response = await fetch(`${env.baseUrl}${request.path}${queryString(request.query)}`, init);
    const text = await response.text();
    return { status: response.status, headers: Object.fromEntries(response.headers), text, ms: performance.now() - started };
  } catch (error) {
    const reason = (error as Error).name === 'TimeoutError' ? 'no answer in time' : `no answer: ${String((error as Error).cause ?? error)}`;
    return { status: 0, headers: {}, text: reason, ms: performance.now() - started };
  }
}

/** The status and headers of a response head (the bytes before the blank line). */
function parseHead(head: Buffer): { status: number; headers: Record<string, string> } {
  const lines = head.toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status, headers };
}

/** Whether a response is all in: by Content-Length, the last chunk, or (neither) only when the connection closes. */
function complete(data: Buffer): boolean {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const { headers } = parseHead(data.subarray(0, end));
  const body = data.subarray(end + 4);
  if (headers['content-length'] !== undefined) return body.length >= Number(headers['content-length']);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) return body.includes('0\r\n\r\n');
  return false;
}

/** Writes raw bytes on a socket and reads the answer; no answer within the timeout is status 0. */
export function sendRaw(baseUrl: string, bytes: Buffer, timeoutMs = ANSWER_TIMEOUT_MS): Promise<Answer> {
  const { hostname, port } = new URL(baseUrl);
  const started = performance.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (answer: Omit<Answer, 'ms'>) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve({ ...answer, ms: performance.now() - started });
    };
    const fromData = () => {
      const data = Buffer.concat(chunks);
      const end = data.indexOf('\r\n\r\n');
      if (end >= 0) return finish({ ...parseHead(data.subarray(0, end)), text: data.subarray(end + 4).toString('utf8') });
      return finish({
        status: 0,
        headers: {},
        text: `connection closed without an answer: ${JSON.stringify(clip(data.toString('latin1')))}`,
      });
    };
    const socket = net.connect(Number(port), hostname, () => socket.write(bytes));
    socket.setTimeout(timeoutMs, () => finish({ status: 0, headers: {}, text: 'no answer in time' }));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (complete(Buffer.concat(chunks))) fromData();
    });
    socket.on('close', fromData);
    socket.on('error', () => fromData());
  });
}

/** Sends one input: raw bytes on a socket, or fetch. */
export function send(env: E2EEnvironment, request: HostileRequest, tag: string): Promise<Answer> {
  if (request.raw) {
    const { host, port } = new URL(env.baseUrl);
    return sendRaw(env.baseUrl, request.raw.build(`${host || `127.0.0.1:${port}`}`, tag));
  }
  return sendWithFetch(env, request, tag);
}

// ---------------------------------------------------------------------------------------------
// Properties

/** Codes of a domain rule's refusal: such a refusal is audited (it writes); every other 4xx must write nothing. */
const DOMAIN_RULE_CODES = new Set<string>([...Object.values(RejectionCode), ...Object.values(TopologyCode)]);

/** Statuses whose problem details must name the offending field(s). */
const FIELD_STATUSES = new Set([400, 413, 415, 422]);

/** The parsed problem document of an answer, or undefined. */
function problemOf(answer: Answer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(answer.text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether an answer is a refusal at the edge (a 4xx not from a domain rule): such an input must write nothing. */
export function isEdgeRefusal(answer: Answer): boolean {
  if (answer.status < 400 || answer.status >= 500) return false;
  const code = problemOf(answer)?.code;
  return !(answer.status === 409 || (typeof code === 'string' && DOMAIN_RULE_CODES.has(code)));
}

/** Whether a refusal (400, 413, 415, 422) lacks field errors with JSON pointers. */
export function refusalWithoutPointer(answer: Answer): boolean {
  if (!FIELD_STATUSES.has(answer.status)) return false;
  const errors = problemOf(answer)?.errors;
  return !Array.isArray(errors) || errors.length === 0 || !errors.every((e) => typeof e?.pointer === 'string' && e.pointer.startsWith('#'));
}

/** Whether an input only reads: it must write nothing, whatever the answer. */
function onlyReads(request: HostileRequest, answer: Answer): boolean {
  if (['GET', 'HEAD', 'OPTIONS'].includes(request.method) && !request.raw) return true;
  const dryRun = request.query.filter(([key]) => key === 'dryRun');
  return request.route === 'POST /change-requests' && answer.status === 200 && dryRun.length === 1 && dryRun[0]?.[1] === 'true';
}

/**
 * What is wrong with an answer, if anything: a 5xx or no answer; a 4xx that is not problem details
 * (type, title, status, detail, code) or, for 400/413/415/422, names no field; 405 without Allow,
 * 401 without WWW-Authenticate; a write from a refused input or from a read.
 */
export function violations(request: HostileRequest, answer: Answer, writes: Write[]): string[] {
  const found: string[] = [];
  if (answer.status === 0)
    found.push(`${answer.text.startsWith('no answer in time') ? 'never a hang' : 'an answer to every request'}: ${answer.text}`);
  if (answer.status >= 500) found.push(`never a 5xx: answered ${answer.status} ${clip(answer.text, 300)}`);
  if (request.raw) {
    if (request.raw.expect === '4xx' && answer.status !== 0 && (answer.status < 400 || answer.status >= 500))
      found.push(`a malformed request is refused with a 4xx: answered ${answer.status}`);
  } else if (answer.status >= 400 && answer.status < 500 && request.method !== 'HEAD') {
    const problem = problemOf(answer);
    if (!/^application\/problem\+json/i.test(answer.headers['content-type'] ?? ''))
      found.push(`a ${answer.status} is application/problem+json, not ${answer.headers['content-type'] ?? 'untyped'}`);
    const missing = ['type', 'title', 'detail', 'code'].filter((field) => typeof problem?.[field] !== 'string');
    if (problem?.status !== answer.status) missing.push('status');
    if (missing.length) found.push(`a ${answer.status}'s problem details have ${missing.join(', ')}: ${clip(answer.text, 300)}`);
    if (refusalWithoutPointer(answer)) found.push(`a ${answer.status} names the field (errors[].pointer): ${clip(answer.text, 300)}`);
  }
  if (answer.status === 405 && !answer.headers.allow) found.push('a 405 has an Allow header');
  if (answer.status === 401 && !answer.headers['www-authenticate']) found.push('a 401 has a WWW-Authenticate header');
  if (writes.length > 0 && (isEdgeRefusal(answer) || onlyReads(request, answer)))
    found.push(
      `a ${isEdgeRefusal(answer) ? `refused (${answer.status})` : 'read-only'} input writes nothing: wrote ${writes.map((w) => `${w.port}[${w.tags.join(',')}]`).join(' ')}`,
    );
  return found;
}

// ---------------------------------------------------------------------------------------------
// Generators

/** A value left out of the object it belongs to. */
const OMIT = Symbol('omit');
type Maybe<T> = T | typeof OMIT;

/** `arbitrary`, or (one time in `every`) left out. */
function maybe<T>(arbitrary: fc.Arbitrary<T>, every = 8): fc.Arbitrary<Maybe<T>> {
  return fc.oneof({ arbitrary, weight: every - 1 }, { arbitrary: fc.constant(OMIT), weight: 1 });
}

/** An object without its left-out fields. */
function present(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== OMIT));
}

/** A string field of a JSON body: hostile text, mostly, or a value of the wrong type. */
function bodyField(text: fc.Arbitrary<string>): fc.Arbitrary<unknown> {
  return fc.oneof({ arbitrary: text, weight: 9 }, { arbitrary: wrongType, weight: 1 });
}

/** The credential an input carries, given the roles its route accepts (`[]`: anonymous). */
function credentialArb(rightRoles: Role[]): fc.Arbitrary<CredentialChoice> {
  const wrong = (['submitter', 'operator', 'auditor', 'reader'] as Role[]).filter((role) => !rightRoles.includes(role));
  const choices: Array<fc.WeightedArbitrary<CredentialChoice>> = [
    { arbitrary: fc.constant({ kind: 'none' as const }), weight: rightRoles.length === 0 ? 6 : 1 },
    {
      arbitrary: fc
        .constantFrom(
          'Bearer',
          'Bearer ',
          'bearer x',
          'Bearer a b',
          `Bearer ${'k'.repeat(40)}`,
          `Bearer ${'k'.repeat(6000)}`,
          'Basic YWxhZGRpbjpvcGVuc2VzYW1l',
          'Negotiate TlRMTVNTUAABAAAA',
          ',,,',
          'Bearer \u00ff\u00fe',
          `Bearer ${ODATA_FRAGMENTS[0] ?? ''}`,
        )
        .chain((value) =>
          fc.oneof(
            fc.constant(value),
            fragment.map((f) => `Bearer ${f}`),
          ),
        )
        .map((value) => ({ kind: 'authorization' as const, value })),
      weight: 1,
    },
  ];
  if (rightRoles.length > 0)
    choices.push({ arbitrary: fc.constantFrom(...rightRoles).map((role) => ({ kind: 'role' as const, role })), weight: 6 });
  if (wrong.length > 0) choices.push({ arbitrary: fc.constantFrom(...wrong).map((role) => ({ kind: 'role' as const, role })), weight: 1 });
  return fc.oneof(...choices);
}

/** X-Correlation-Id: mostly the suite's tag, sometimes absent or hostile. */
const correlationArb: fc.Arbitrary<CorrelationChoice> = fc.oneof(
  { arbitrary: fc.constant({ kind: 'tag' as const }), weight: 8 },
  { arbitrary: fc.constant({ kind: 'absent' as const }), weight: 1 },
  {
    arbitrary: hostileText({ real: ['ticket-4711', 'a'.repeat(128), 'a'.repeat(129), 'a:b.c_d-e'], maxLength: 2000 }).map((value) => ({
      kind: 'given' as const,
      value,
    })),
    weight: 2,
  },
);

/** Headers a caller must not be trusted with: forged App Service principals, of any length. */
const forgedPrincipalArb: fc.Arbitrary<Array<[string, string]>> = fc.oneof(
  { arbitrary: fc.constant([] as Array<[string, string]>), weight: 6 },
  {
    arbitrary: hostileText({ real: ['mallory@contoso.com', 'a'.repeat(600), 'é'.repeat(400)], maxLength: 2000 }).map(
      (name): Array<[string, string]> => [['x-ms-client-principal-name', name]],
    ),
    weight: 1,
  },
  {
    arbitrary: fc.constantFrom('operator', 'auditor', 'submitter').map((role): Array<[string, string]> => [
      [
        'x-ms-client-principal',
        Buffer.from(
          JSON.stringify({ auth_typ: 'aad', name_typ: 'preferred_username', role_typ: 'roles', claims: [{ typ: 'roles', val: role }] }),
        ).toString('base64'),
      ],
      ['x-ms-client-principal-id', '00000000-0000-0000-0000-000000000000'],
    ]),
    weight: 1,
  },
);

/** Content-Type values: JSON mostly, then look-alikes and others, or none. */
const contentTypeArb: fc.Arbitrary<Maybe<string>> = fc.oneof(
  { arbitrary: fc.constant('application/json'), weight: 8 },
  {
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/merge-patch+json',
      'application/problem+json',
      'application/json; charset=utf-16',
      'text/plain',
      'text/json',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      'application/jsonp',
      'application',
      '*/*',
      'application/json\u0000',
      'ａｐｐｌｉｃａｔｉｏｎ/json',
    ),
    weight: 3,
  },
  { arbitrary: fc.constant(OMIT), weight: 1 },
);

/** JSON text that does not parse, or parses to the wrong kind of thing. */
const MALFORMED_JSON = [
  '',
  ' ',
  'null',
  '[]',
  '"create"',
  '0',
  '{',
  '{"operation":"create",}',
  "{'operation':'create'}",
  'NaN',
  '{"a":1}{"b":2}',
  '\ufeff{}',
  '{"__proto__":{"operation":"create"}}',
  '{"constructor":{"prototype":{"x":1}}}',
  '\u0000',
  '{"operation":"create","sipAddress":"sip:a@b.c","poolFqdn":"p.b.c","operation":"delete"}',
  '{"operation":"\\ud800"}',
  '{"operation":"create","sipAddress":"sip:a@b.c\\u0000"}',
];

/** How a JSON object goes on the wire: as JSON, cut short, malformed, nested deep, oversized, not UTF-8, chunked. */
function bodyArb(object: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<{ bytes: Buffer; chunked: boolean }> {
  const text = fc.oneof(
    { arbitrary: object.map((value) => JSON.stringify(value)), weight: 12 },
    {
      arbitrary: fc.tuple(object, fc.nat()).map(([value, at]) => {
        const json = JSON.stringify(value);
        return json.slice(0, at % json.length);
      }),
      weight: 1,
    },
    { arbitrary: fc.constantFrom(...MALFORMED_JSON), weight: 1 },
    { arbitrary: fc.integer({ min: 100, max: 40_000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`), weight: 1 },
    {
      arbitrary: fc
        .integer({ min: 100, max: 20_000 })
        .map((depth) => `{"operation":"create","sipAddress":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`),
      weight: 1,
    },
    {
      arbitrary: fc
        .constantFrom(64 * 1024 + 1, 70_000, 200_000)
        .map((size) => JSON.stringify({ operation: 'create', sipAddress: 'sip:a@b.c', poolFqdn: 'p.b.c', displayName: 'a'.repeat(size) })),
      weight: 1,
    },
  );
  const bytes = fc.oneof(
    { arbitrary: text.map((value) => Buffer.from(value, 'utf8')), weight: 12 },
    { arbitrary: text.map((value) => Buffer.concat([Buffer.from([0xff, 0xfe, 0xc0, 0xaf]), Buffer.from(value, 'utf8')])), weight: 1 },
    { arbitrary: text.map((value) => Buffer.from(value, 'utf16le')), weight: 1 },
  );
  return fc.record({ bytes, chunked: fc.oneof({ arbitrary: fc.constant(false), weight: 5 }, { arbitrary: fc.constant(true), weight: 1 }) });
}

/** `arbitrary` one time in `every`, else left out. */
function sometimes<T>(arbitrary: fc.Arbitrary<T>, every: number): fc.Arbitrary<Maybe<T>> {
  return fc.oneof({ arbitrary, weight: 1 }, { arbitrary: fc.constant(OMIT), weight: every - 1 });
}

/**
 * Query parameters: the route's own (each present one time in `every`, default 2), sometimes one
 * repeated, sometimes an unknown or OData-shaped one.
 */
function queryArb(params: Array<[string, fc.Arbitrary<string>, number?]>): fc.Arbitrary<Array<[string, string]>> {
  const own = fc.tuple(
    ...params.map(([name, value, every]) =>
      sometimes(
        value.map((v): [string, string] => [name, v]),
        every ?? 2,
      ),
    ),
  );
  const extra = fc.oneof(
    { arbitrary: fc.constant([] as Array<[string, string]>), weight: 8 },
    {
      arbitrary: fc
        .tuple(
          fc.constantFrom('$filter', 'PartitionKey', 'RowKey', '$select', 'x', '__proto__', params[0]?.[0] ?? 'x'),
          fc.constantFrom(...ODATA_FRAGMENTS),
        )
        .map(([key, value]): Array<[string, string]> => [[key, value]]),
      weight: 1,
    },
  );
  return fc.tuple(own, extra, fc.boolean(), fc.nat()).map(([chosen, more, repeat, which]) => {
    const query = [...chosen.filter((pair): pair is [string, string] => pair !== OMIT), ...more];
    const repeated = query[which % Math.max(1, query.length)];
    // A repeated parameter (?limit=1&limit=1000) must be refused, not silently picked.
    if (repeat && repeated && which % 5 === 0) query.push(repeated);
    return query;
  });
}

/** Field generators over the world's real names. */
function fields(world: World) {
  const addresses = [...world.endpoints, ...world.users, ...world.freeAddresses, 'sip:ocschat@contoso.com'];
  return {
    sip: (maxLength: number) => hostileText({ real: addresses, maxLength, sip: true }),
    fqdn: (maxLength: number) => hostileText({ real: [...world.pools, world.domain, `fresh.${world.domain}`, 'contoso.com'], maxLength }),
    displayName: (maxLength: number) => hostileText({ real: ['Legacy Group Chat', 'Persistent Chat', 'Ｌｅｇａｃｙ'], maxLength }),
    id: (maxLength: number) => hostileText({ real: [...world.changeRequestIds, '00000000-0000-4000-8000-000000000000'], maxLength }),
    text: (real: string[], maxLength: number) => hostileText({ real, maxLength }),
  };
}

/** Limit values: in range, out of range, not numbers. */
const limitArb: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom('1', '50', '1000'), weight: 3 },
  {
    arbitrary: fc.constantFrom('1001', '0', '-1', '1e3', '01', '100.5', ' 5', '0x10', '99999999999999999999', 'NaN', 'Infinity', ''),
    weight: 1,
  },
  { arbitrary: fragment, weight: 1 },
);

/** Cursors: garbage, base64 of garbage, OData. */
const cursorArb: fc.Arbitrary<string> = fc.oneof(
  fragment,
  fc.constantFrom(...ODATA_FRAGMENTS),
  fc.string({ maxLength: 60 }).map((text) => Buffer.from(text).toString('base64')),
  fc.constantFrom(Buffer.from(JSON.stringify({ rowKey: "address|' or 1 eq 1" })).toString('base64url'), 'a'.repeat(1025)),
);

/** A route group: its name, its share of the runs, and the generator of its inputs. */
export interface RouteGroup {
  name: string;
  weight: number;
  arbitrary: fc.Arbitrary<HostileRequest>;
}

/** Assembles a request. */
function request(
  route: string,
  method: string,
  path: string,
  parts: Partial<HostileRequest> & Pick<HostileRequest, 'credential' | 'correlation'>,
): HostileRequest {
  const value: HostileRequest = { route, method, path, query: [], headers: [], ...parts };
  // fast-check prints a counterexample with this: one clipped line, not a 200 KB body.
  Object.defineProperty(value, fc.toStringMethod, { value: () => describeRequest(value), enumerable: false });
  return value;
}

/** Extra headers: forged principals, and optionally an Idempotency-Key. */
function headersArb(extra: fc.Arbitrary<Array<[string, string]>> = fc.constant([])): fc.Arbitrary<Array<[string, string]>> {
  return fc.tuple(forgedPrincipalArb, extra).map(([forged, more]) => [...forged, ...more]);
}

/** A JSON body with its Content-Type header. */
function withContentType(body: fc.Arbitrary<{ bytes: Buffer; chunked: boolean }>) {
  return fc.tuple(body, contentTypeArb).map(([value, contentType]) => ({
    body: value,
    headers: contentType === OMIT ? [] : ([['content-type', contentType]] as Array<[string, string]>),
  }));
}

/** The raw requests: malformed Host headers, request lines and headers, and dot segments fetch would resolve. */
export function rawRequestArb(): fc.Arbitrary<HostileRequest> {
  const validHost = (host: string) => {
    const match = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/.exec(host);
    return match !== null && (match[2] === undefined || Number(match[2]) <= 65535);
  };
  const hosts = fc.oneof(
    fc.constant('AUTHORITY'),
    fc.constantFrom(
      '',
      '[::1',
      'a b',
      '%',
      '%zz',
      'exa mple',
      'http://x',
      'x:99999',
      'x:-1',
      '@',
      'user@host',
      '\u00ff\u00fe',
      'a'.repeat(300),
      'ｈｏｓｔ',
      '[',
      ':',
      'x::',
      'localhost:80:80',
      '\\\\evil',
      '..',
      'host/path',
      'host?q',
      'host#f',
    ),
    fragment,
  );
  const target = fc.constantFrom(
    '/api/topology',
    '/api/endpoints/../topology',
    '/api/./topology',
    '/api/%2e%2e/api/topology',
    '/api/endpoints/%2e%2e/%2e%2e/api/topology',
    '/api/topology/..%2f..%2fhead',
    '//api/topology',
    '/api\\topology',
    'http://evil.example/api/topology',
    '*',
    '/api/topology?%zz',
    '/api/topology#x',
  );
  // Each request line with what it needs: a broken one must be refused; the forms Node's parser
  // tolerates (a doubled space, no version) and TRACE must only not fail.
  const requestLines = fc.constantFrom<[string, RawRequest['expect']]>(
    ['GET TARGET HTTP/1.1', 'below-500'],
    ['GET TARGET HTTP/9.9', '4xx'],
    ['GET  TARGET HTTP/1.1', 'below-500'],
    ['GET TARGET', 'below-500'],
    ['G\u0000T TARGET HTTP/1.1', '4xx'],
    ['GET TARGET HTTP/1.1 extra', '4xx'],
    ['CONNECT TARGET HTTP/1.1', '4xx'],
    ['TRACE TARGET HTTP/1.1', 'below-500'],
    ['FOO TARGET HTTP/1.1', '4xx'],
    ['GET /api/to pology HTTP/1.1', '4xx'],
    ['GET /api/top\u00e9logy HTTP/1.1', '4xx'],
    ['get TARGET HTTP/1.1', '4xx'],
  );
  // Each extra header with what it makes of the request: broken framing or header syntax must be refused (4xx);
  // odd bytes in a well-formed header (obs-text), a second Host or folding must only not fail.
  const extraHeaders = fc.constantFrom<[string, RawRequest['expect']]>(
    ['', 'below-500'],
    [`X-Big: ${'a'.repeat(20_000)}\r\n`, '4xx'],
    ['No-Colon-Header\r\n', '4xx'],
    ['Bad Name: x\r\n', '4xx'],
    ['Content-Length: 5\r\nTransfer-Encoding: chunked\r\n', '4xx'],
    ['Content-Length: -1\r\n', '4xx'],
    ['Content-Length: abc\r\n', '4xx'],
    ['Content-Length: 1\r\nContent-Length: 2\r\n', '4xx'],
    ['X-Correlation-Id: \u00ed\u00a0\u0080\r\n', 'below-500'],
    ['Idempotency-Key: \u00ff\u00fe\r\n', 'below-500'],
    ['Authorization: Bearer \u00ed\u00a0\u0080\r\n', 'below-500'],
    ['X-Ms-Client-Principal-Name: \u00ed\u00a0\u0080\r\n', 'below-500'],
    ['X-Folded: a\r\n b\r\n', 'below-500'],
    ['Transfer-Encoding: chunked, gzip\r\n', 'below-500'],
    ['Host: second.example\r\n', 'below-500'],
  );
  return fc
    .tuple(requestLines, target, hosts, extraHeaders, fc.boolean())
    .map(([[line, lineExpect], path, host, [extra, headerExpect], withBody]) => {
      const malformedLine = lineExpect === '4xx';
      const hostIsValid = host === 'AUTHORITY' || validHost(host);
      // Anything broken in the request line, the Host or a header's syntax must be refused; an odd but valid request must only not fail.
      const expect: RawRequest['expect'] = malformedLine || !hostIsValid || headerExpect === '4xx' ? '4xx' : 'below-500';
      const name = `${line.replace('TARGET', path)} | Host: ${clip(host, 40)} | ${clip(extra.trim(), 60)}${withBody ? ' | POST body' : ''}`;
      const body = withBody ? '{"operation":"create","sipAddress":"sip:raw@contoso.com","poolFqdn":"pc.contoso.com"}' : '';
      const raw: RawRequest = {
        name,
        expect,
        build: (authority, tag) => {
          const head =
            `${(withBody ? line.replace(/^GET/, 'POST') : line).replace('TARGET', withBody && path === '/api/topology' ? '/api/change-requests' : path)}\r\n` +
            `Host: ${host === 'AUTHORITY' ? authority : headerValue(host)}\r\nX-Correlation-Id: ${tag}\r\nConnection: close\r\n${extra}` +
            (withBody && !extra.includes('Content-Length') ? `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n` : '') +
            '\r\n';
          return Buffer.from(head + body, 'latin1');
        },
      };
      return request('raw socket', 'RAW', path, { raw, credential: { kind: 'none' }, correlation: { kind: 'tag' } });
    });
}

/** Every route group of the API, with its share of the runs (the weights add up to 10,000). */
export function routeGroups(world: World): RouteGroup[] {
  const f = fields(world);
  const Q = 1500; // the longest text in a query string or header (the host's header limit is 16 KiB, encoding multiplies)
  const B = 70_000; // in a body, past 64 KiB

  // Well-formed shapes mostly (so values reach the use cases), with wrong operations, missing and unknown fields now and then.
  const operation = fc.oneof(
    { arbitrary: fc.constantFrom('update', 'CREATE', ' create', 'create\u0000', '', '\u0441reate'), weight: 1 },
    { arbitrary: wrongType, weight: 1 },
  );
  const intruders = {
    // Envelope fields of a queue message: the actor and ids are not the HTTP caller's to set.
    actor: sometimes(f.text(['mallory', 'a'.repeat(600)], 2000), 20),
    changeRequestId: sometimes(f.id(200), 30),
    [' sipAddress']: sometimes(fc.constant('sip:a@b.c'), 40),
  };
  const createBody = fc
    .record({
      operation: fc.oneof({ arbitrary: fc.constant('create'), weight: 20 }, { arbitrary: operation, weight: 1 }),
      sipAddress: maybe(bodyField(f.sip(B)), 20),
      poolFqdn: maybe(bodyField(f.fqdn(B)), 20),
      displayName: sometimes(bodyField(f.displayName(B)), 2),
      replaceLegacyUser: sometimes(
        fc.oneof(
          { arbitrary: fc.boolean(), weight: 4 },
          { arbitrary: wrongType, weight: 1 },
          { arbitrary: fc.constantFrom('true', 1), weight: 1 },
        ),
        3,
      ),
      ...intruders,
    })
    .map(present);
  const deleteBody = fc
    .record({
      operation: fc.oneof({ arbitrary: fc.constant('delete'), weight: 20 }, { arbitrary: operation, weight: 1 }),
      sipAddress: maybe(bodyField(f.sip(B)), 20),
      poolFqdn: sometimes(bodyField(f.fqdn(B)), 20),
      ...intruders,
    })
    .map(present);
  // And requests a well-behaved caller would send, about real names, so the use cases and workers get work too.
  const realAddresses = [...world.endpoints, ...world.users, ...world.freeAddresses];
  const plausibleBody = fc.oneof(
    fc
      .record({
        operation: fc.constant('create'),
        sipAddress: fc.constantFrom(...realAddresses),
        poolFqdn: fc.constantFrom(...world.pools),
        displayName: sometimes(fc.constantFrom('Legacy Group Chat', 'Persistent Chat'), 2),
        replaceLegacyUser: sometimes(fc.boolean(), 3),
      })
      .map(present),
    fc.record({ operation: fc.constant('delete'), sipAddress: fc.constantFrom(...realAddresses) }),
  );
  const changeRequestBody = fc.oneof(createBody, deleteBody, plausibleBody);

  const submit = fc
    .record({
      body: withContentType(bodyArb(changeRequestBody)),
      query: queryArb([['dryRun', fc.oneof(fc.constantFrom('true', 'false', 'TRUE', '1', '', 'yes'), fragment), 3]]),
      idempotency: sometimes(
        fc.oneof(fc.constantFrom('k1', 'k2', '"k3"', '""', 'a'.repeat(255), 'a'.repeat(256)), f.text(['ticket-4711-create'], Q)),
        4,
      ),
      headers: headersArb(),
      credential: credentialArb(['submitter']),
      correlation: correlationArb,
    })
    .map(({ body, query, idempotency, headers, credential, correlation }) =>
      request('POST /change-requests', 'POST', '/change-requests', {
        body: body.body,
        query,
        headers: [...body.headers, ...headers, ...(idempotency === OMIT ? [] : [['idempotency-key', idempotency] as [string, string]])],
        credential,
        correlation,
      }),
    );

  const getChangeRequest = fc
    .record({
      id: f.id(Q),
      headers: headersArb(),
      credential: credentialArb(['submitter', 'operator', 'auditor']),
      correlation: correlationArb,
    })
    .map(({ id, headers, credential, correlation }) =>
      request('GET /change-requests/{id}', 'GET', `/change-requests/${segment(id)}`, { headers, credential, correlation }),
    );

  const listChangeRequests = fc
    .record({
      query: queryArb([
        ['status', fc.oneof(fc.constantFrom('accepted', 'applied', 'rejected', 'failed', 'canceled', 'Applied'), fragment), 4],
        ['sipAddress', f.sip(Q), 4],
        ['operation', fc.oneof(fc.constantFrom('create', 'delete', 'update', 'CREATE'), fragment), 4],
        ['since', fc.oneof(fc.constantFrom('2026-11-01T00:00:00Z', '2026-13-01T00:00:00Z', '+275760-09-13T00:00:00Z', '1'), fragment), 5],
        ['until', fc.oneof(fc.constantFrom('2099-01-01T00:00:00+01:00', '2026-02-30T00:00:00Z', '1970-01-01T00:00:00Z'), fragment), 5],
        ['limit', limitArb, 4],
        ['cursor', cursorArb, 6],
      ]),
      headers: headersArb(),
      credential: credentialArb(['submitter', 'operator', 'auditor']),
      correlation: correlationArb,
    })
    .map(({ query, headers, credential, correlation }) =>
      request('GET /change-requests', 'GET', '/change-requests', { query, headers, credential, correlation }),
    );

  const cancelChangeRequest = fc
    .record({
      id: f.id(Q),
      headers: headersArb(),
      credential: credentialArb(['submitter', 'operator']),
      correlation: correlationArb,
    })
    .map(({ id, headers, credential, correlation }) =>
      request('POST /change-requests/{id}/cancel', 'POST', `/change-requests/${segment(id)}/cancel`, { headers, credential, correlation }),
    );

  const anyRole: Role[] = ['submitter', 'operator', 'auditor', 'reader'];
  const wildcard = (prefix: string, real: fc.Arbitrary<string>) =>
    fc.oneof(
      { arbitrary: real, weight: 6 },
      { arbitrary: fc.constantFrom(`sip:*@${world.domain}`, `*${world.domain}`, '*', '**', `sip:pc*@${world.domain}`), weight: 2 },
      { arbitrary: pathologicalWildcard(prefix), weight: 1 },
      { arbitrary: fc.integer({ min: 1, max: 2000 }).map((n) => '*'.repeat(n)), weight: 1 },
    );
  const listEndpoints = fc
    .record({
      query: queryArb([
        ['poolFqdn', f.fqdn(Q), 3],
        ['sipAddress', wildcard('sip:', f.sip(Q)), 3],
        ['displayName', wildcard('', f.displayName(Q)), 3],
        ['limit', limitArb, 3],
        ['cursor', cursorArb, 6],
      ]),
      headers: headersArb(),
      credential: credentialArb(anyRole),
      correlation: correlationArb,
    })
    .map(({ query, headers, credential, correlation }) =>
      request('GET /endpoints', 'GET', '/endpoints', { query, headers, credential, correlation }),
    );

  const getEndpoint = fc
    .record({ address: f.sip(Q), headers: headersArb(), credential: credentialArb(anyRole), correlation: correlationArb })
    .map(({ address, headers, credential, correlation }) =>
      request('GET /endpoints/{sipAddress}', 'GET', `/endpoints/${segment(address)}`, { headers, credential, correlation }),
    );

  const getTopology = fc
    .record({
      query: queryArb([['x', fragment, 4]]),
      headers: headersArb(),
      credential: credentialArb(anyRole),
      correlation: correlationArb,
    })
    .map(({ query, headers, credential, correlation }) =>
      request('GET /topology', 'GET', '/topology', { query, headers, credential, correlation }),
    );

  const topologyChange = (route: string, base: string, name: fc.Arbitrary<string>, body?: fc.Arbitrary<Record<string, unknown>>) =>
    fc
      .record({
        method: fc.constantFrom('PUT', 'PUT', 'DELETE'),
        name,
        body: body ? maybe(withContentType(bodyArb(body)), 3) : fc.constant(OMIT),
        headers: headersArb(),
        credential: credentialArb(['operator']),
        correlation: correlationArb,
      })
      .map(({ method, name: value, body: sent, headers, credential, correlation }) =>
        request(route, method, `${base}/${segment(value)}`, {
          ...(sent === OMIT || method === 'DELETE' ? {} : { body: sent.body }),
          headers: [...(sent === OMIT || method === 'DELETE' ? [] : sent.headers), ...headers],
          credential,
          correlation,
        }),
      );
  const freshDomains = Array.from({ length: 4 }, (_, i) => `n${i}.${world.domain}`);
  const domainName = hostileText({ real: [world.domain, ...freshDomains, 'contoso.com'], maxLength: Q });
  const poolName = hostileText({ real: [...world.pools, ...freshDomains.map((d) => `pc.${d}`), `pcx.${world.domain}`], maxLength: Q });
  const poolBody = fc.record({ defaultEndpointSipAddress: maybe(bodyField(f.sip(B)), 3) }).map(present);
  const userBody = fc.record({ displayName: maybe(bodyField(f.displayName(B)), 3), actor: maybe(fc.constant('mallory'), 20) }).map(present);

  const auditQuery = fc
    .record({
      query: queryArb([
        ['subject', fc.oneof(f.sip(Q), f.text([`pool:${world.pools[0] ?? ''}`, `sip-domain:${world.domain}`], Q)), 4],
        ['type', fc.oneof(fc.constantFrom(...Object.values(AuditAction)), fragment), 5],
        ['actor', f.text(['anonymous', 'mallory', 'queue:endpoint-create'], Q), 5],
        ['outcome', fc.oneof(fc.constantFrom('applied', 'rejected', 'failed', 'Applied'), fragment), 5],
        ['changeRequest', f.id(Q), 5],
        ['correlation', f.text(world.correlationIds, Q), 5],
        [
          'since',
          fc.oneof(
            fc.constantFrom(
              '2026-11-01T00:00:00Z',
              '2026-13-01T00:00:00Z',
              '0000-01-01T00:00:00Z',
              '+275760-09-13T00:00:00Z',
              '2026-11-01',
              '1',
            ),
            fragment,
          ),
          6,
        ],
        [
          'until',
          fc.oneof(fc.constantFrom('2099-01-01T00:00:00+01:00', '2026-02-30T00:00:00Z', '9999-12-31T23:59:59.999999999Z'), fragment),
          6,
        ],
        ['limit', limitArb, 5],
        ['cursor', cursorArb, 8],
        [
          'format',
          fc.oneof({ arbitrary: fc.constantFrom('json', 'ndjson', 'csv', 'JSON', 'xml'), weight: 4 }, { arbitrary: fragment, weight: 1 }),
          4,
        ],
      ]),
      headers: headersArb(),
      credential: credentialArb(['auditor']),
      correlation: correlationArb,
    })
    .map(({ query, headers, credential, correlation }) =>
      request('GET /audit', 'GET', '/audit', { query, headers, credential, correlation }),
    );

  const verify = fc
    .record({ query: queryArb([['x', fragment, 6]]), credential: credentialArb(['auditor']), correlation: correlationArb })
    .map(({ query, credential, correlation }) => request('GET /audit/verify', 'GET', '/audit/verify', { query, credential, correlation }));

  const signingKeys = fc
    .record({ query: queryArb([['x', fragment, 6]]), credential: credentialArb(['auditor']), correlation: correlationArb })
    .map(({ query, credential, correlation }) =>
      request('GET /audit/signing-keys', 'GET', '/audit/signing-keys', { query, credential, correlation }),
    );

  const timeline = fc
    .record({
      query: queryArb([
        ['timeZone', fc.oneof(fc.constantFrom('UTC', 'America/New_York', 'Etc/GMT+5', '../etc', 'Mars/Base', 'a'.repeat(65)), fragment), 2],
        ['outcome', fc.oneof(fc.constantFrom('applied', 'rejected', 'failed'), fragment), 5],
        ['since', fragment, 6],
        ['subject', fragment, 5],
      ]),
      credential: credentialArb(['auditor']),
      correlation: correlationArb,
    })
    .map(({ query, credential, correlation }) =>
      request('GET /audit/timeline', 'GET', '/audit/timeline', { query, credential, correlation }),
    );

  const checkpoints = fc
    .record({
      query: queryArb([
        ['limit', fc.oneof(fc.integer({ min: -5, max: 2000 }).map(String), fragment), 4],
        ['cursor', fragment, 4],
        [
          'format',
          fc.oneof({ arbitrary: fc.constantFrom('json', 'ndjson', 'NDJSON', 'csv'), weight: 4 }, { arbitrary: fragment, weight: 1 }),
          4,
        ],
      ]),
      credential: credentialArb(['auditor']),
      correlation: correlationArb,
    })
    .map(({ query, credential, correlation }) =>
      request('GET /audit/checkpoints', 'GET', '/audit/checkpoints', { query, credential, correlation }),
    );

  const verificationBody = fc
    .record({ mode: maybe(fc.oneof(fc.constantFrom('incremental', 'full', 'FULL', ''), bodyField(f.text(['full'], B))), 3) })
    .map(present);
  const startVerification = fc
    .record({
      body: withContentType(bodyArb(verificationBody)),
      query: queryArb([['x', fragment, 6]]),
      headers: headersArb(),
      credential: credentialArb(['auditor']),
      correlation: correlationArb,
    })
    .map(({ body, query, headers, credential, correlation }) =>
      request('POST /audit/verifications', 'POST', '/audit/verifications', {
        body: body.body,
        query,
        headers: [...body.headers, ...headers],
        credential,
        correlation,
      }),
    );
  const getVerification = fc
    .record({ id: f.id(Q), credential: credentialArb(['auditor']), correlation: correlationArb })
    .map(({ id, credential, correlation }) =>
      request('GET /audit/verifications/{id}', 'GET', `/audit/verifications/${segment(id)}`, { credential, correlation }),
    );

  const review = fc
    .record({
      query: queryArb([['subject', fragment, 4]]),
      headers: headersArb(),
      credential: credentialArb([]),
      correlation: correlationArb,
    })
    .map(({ query, headers, credential, correlation }) =>
      request('GET /review', 'GET', '/review', { query, headers, credential, correlation }),
    );

  // Odd methods on real routes, unknown routes, and percent-escapes that are not valid UTF-8 (the host decodes route parameters).
  const hostRouting = fc
    .record({
      method: fc.constantFrom('GET', 'PATCH', 'OPTIONS', 'HEAD', 'PROPFIND', 'PURGE', 'LOCK', 'PUT', 'DELETE', 'POST'),
      path: fc.oneof(
        fc.constantFrom(
          '/topology',
          '/review',
          '/audit/verify',
          '/audit/checkpoints',
          '/endpoints',
          '/change-requests',
          '/nope',
          '/API/TOPOLOGY',
          '//topology',
          '/topology/sip-domains/',
          '/topology/sip-domains',
        ),
        fc
          .tuple(
            fc.constantFrom('/endpoints/', '/change-requests/', '/topology/pools/', '/topology/users/', '/topology/sip-domains/'),
            fc.constantFrom(
              '%zz',
              '%',
              '%E0%A4',
              '%ED%A0%80',
              '%C0%AF',
              '%FF',
              'a/b',
              'sip:a@b.c/..',
              '%2e%2e%2f%2e%2e%2f',
              ...LONE_SURROGATES.map((s) => pct(s)),
            ),
          )
          .map(([base, tail]) => base + tail),
      ),
      credential: credentialArb(anyRole),
      correlation: correlationArb,
    })
    .map(({ method, path, credential, correlation }) =>
      request('host routing (methods, paths)', method, path, { credential, correlation }),
    );

  return [
    { name: 'POST /change-requests', weight: 2400, arbitrary: submit },
    { name: 'GET /change-requests/{id}', weight: 600, arbitrary: getChangeRequest },
    { name: 'GET /change-requests', weight: 600, arbitrary: listChangeRequests },
    { name: 'POST /change-requests/{id}/cancel', weight: 300, arbitrary: cancelChangeRequest },
    { name: 'GET /endpoints/{sipAddress}', weight: 800, arbitrary: getEndpoint },
    { name: 'GET /topology', weight: 200, arbitrary: getTopology },
    {
      name: 'PUT|DELETE /topology/sip-domains/{domain}',
      weight: 800,
      arbitrary: topologyChange('PUT|DELETE /topology/sip-domains/{domain}', '/topology/sip-domains', domainName),
    },
    {
      name: 'PUT|DELETE /topology/pools/{fqdn}',
      weight: 900,
      arbitrary: topologyChange('PUT|DELETE /topology/pools/{fqdn}', '/topology/pools', poolName, poolBody),
    },
    {
      name: 'PUT|DELETE /topology/users/{sipAddress}',
      weight: 900,
      arbitrary: topologyChange('PUT|DELETE /topology/users/{sipAddress}', '/topology/users', f.sip(Q), userBody),
    },
    { name: 'GET /audit', weight: 1200, arbitrary: auditQuery },
    { name: 'GET /audit/verify', weight: 60, arbitrary: verify },
    { name: 'GET /audit/signing-keys', weight: 60, arbitrary: signingKeys },
    { name: 'GET /audit/timeline', weight: 200, arbitrary: timeline },
    { name: 'GET /audit/checkpoints', weight: 200, arbitrary: checkpoints },
    { name: 'POST /audit/verifications', weight: 40, arbitrary: startVerification },
    { name: 'GET /audit/verifications/{id}', weight: 60, arbitrary: getVerification },
    { name: 'GET /review', weight: 140, arbitrary: review },
    { name: 'host routing (methods, paths)', weight: 300, arbitrary: hostRouting },
    { name: 'raw socket', weight: 100, arbitrary: rawRequestArb() },
    // Last: today a pathological wildcard blocks the event loop, and the watchdog then ends the file.
    { name: 'GET /endpoints', weight: 1600, arbitrary: listEndpoints },
  ];
}
