import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { TableClient, type TableEntity, type TransactionAction } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import type { RecordedAction } from './floor';

/**
 * The admission floor (issue 13, 1(d)): a bare node:http server on loopback that admits
 * POST /api/change-requests with the SDKs and no service code, as a skilled engineer would, doing the
 * storage work the service's admission does (TableAdmissions.admit, then the queue send):
 *
 *   1. one entity-group transaction: the address's counter row `line|<domain>|<user>` created with
 *      the first ticket, the request's `cr|<id>` row, its five `crix|` listing rows (all, actor,
 *      status, address, operation) and its `pending|<domain>|<user>|<ticket>` row, each holding the
 *      same JSON with the same columns as the service writes (the bench compares the two sides'
 *      recorded transactions, action by action, in bytes: see compareAdmissionBatches). A create
 *      most often names a new address, so neither side reads the counter first; should it exist,
 *      the transaction fails whole (409), and the counter is read and replaced under its ETag with
 *      the next ticket (a lost race, 409 or 412, reads it again);
 *   2. send the request's queue message (base64 JSON, the service's fields), then answer 202 with
 *      Location, Retry-After and X-Correlation-Id, and the request as JSON, as the service does.
 *
 * Left out: authentication beyond one key (the service hashes the bearer and compares it, in constant
 * time, with every configured key's digest, then checks the caller's roles; this compares with one
 * digest and has no roles); the rate limiter (in memory, set out of the way on the service too);
 * validation beyond the body's shape (the service runs its zod schemas on the body, the query and the
 * Idempotency-Key, X-Correlation-Id and traceparent headers; this accepts creates only, and makes a
 * new correlation id and trace); Idempotency-Key (the bench sends none, so the service reads no key
 * row either); the in-process per-address mutex; logging, telemetry and problem+json errors.
 */

/** The service's delivery policy default (REDRIVE_AFTER_SECONDS): an admitted request's first re-drive time. */
const REDRIVE_AFTER_MS = 30_000;
const MAX_SEQUENCE = 999_999_999_999_999;
const padded = (n: number) => String(n).padStart(15, '0');
const MAX_BODY_BYTES = 64 * 1024;
const RACE_RETRIES = 10;
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const SIP_ADDRESS = /^sip:([A-Za-z0-9._-]{1,64})@([A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+)$/;
const FQDN = /^[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+$/;

/** A create as the bare handler accepts it. */
interface CreateRequest {
  operation: 'create';
  sipAddress: string;
  poolFqdn: string;
}

/** The body's shape: a create with a well-formed SIP address and pool FQDN, or undefined. */
export function parseCreate(text: string): CreateRequest | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { operation, sipAddress, poolFqdn } = value as Record<string, unknown>;
  if (operation !== 'create' || typeof sipAddress !== 'string' || typeof poolFqdn !== 'string') return undefined;
  if (poolFqdn.length > 255 || !SIP_ADDRESS.test(sipAddress) || !FQDN.test(poolFqdn)) return undefined;
  return { operation, sipAddress, poolFqdn };
}

/** Where the bare handler keeps its rows and sends its messages, and the one key it accepts. */
export interface BareAdmissionOptions {
  connectionString: string;
  table: string;
  partition: string;
  queue: string;
  /** The API key callers present as `Authorization: Bearer <key>`, and the principal it names. */
  key: string;
  principal: string;
}

/** The bare admission server. */
export class BareAdmission {
  private readonly digest: Buffer;
  private readonly table: TableClient;
  private readonly queue: QueueClient;
  private server: http.Server | undefined;
  private origin = '';

  constructor(private readonly options: BareAdmissionOptions) {
    this.digest = sha256(options.key);
    this.table = TableClient.fromConnectionString(options.connectionString, options.table, { allowInsecureConnection: true });
    this.queue = new QueueClient(options.connectionString, options.queue);
  }

  /** Creates the table and queue, then listens on an ephemeral loopback port; resolves with the base URL. */
  async start(): Promise<string> {
    await this.table.createTable();
    await this.queue.createIfNotExists();
    const server = http.createServer((request, response) => this.handle(request, response));
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.origin;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    if (request.method !== 'POST' || request.url !== '/api/change-requests') return answer(response, 404);
    if (!this.authenticated(request.headers.authorization)) return answer(response, 401, { 'www-authenticate': 'Bearer realm="pchat"' });
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => {
      const create = size <= MAX_BODY_BYTES ? parseCreate(Buffer.concat(chunks).toString('utf8')) : undefined;
      if (!create) return answer(response, 400);
      this.admit(create).then(
        ({ id, correlationId, json }) =>
          answer(
            response,
            202,
            {
              'content-type': 'application/json; charset=utf-8',
              location: `${this.origin}/api/change-requests/${id}`,
              'retry-after': '1',
              'x-correlation-id': correlationId,
            },
            json,
          ),
        (error: unknown) => answer(response, 503, { 'content-type': 'text/plain' }, String(error)),
      );
    });
  }

  /** The bearer's SHA-256 against the key's, in constant time (both digests have one length). */
  private authenticated(authorization: string | undefined): boolean {
    const token = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
    return token !== undefined && timingSafeEqual(sha256(token), this.digest);
  }

  /** Records the request in its address's waiting list (one transaction), then sends its message. */
  private async admit(create: CreateRequest): Promise<{ id: string; correlationId: string; json: string }> {
    const at = create.sipAddress.indexOf('@') + 1;
    const user = encodeURIComponent(create.sipAddress.slice('sip:'.length, at - 1));
    const domain = encodeURIComponent(create.sipAddress.slice(at));
    const now = Date.now();
    const trace = randomBytes(24).toString('hex');
    const record = {
      id: randomUUID(),
      request: create,
      actor: this.options.principal,
      correlationId: randomUUID(),
      traceContext: { traceparent: `00-${trace.slice(0, 32)}-${trace.slice(32)}-00` },
      channel: 'http',
      acceptedAt: new Date(now).toISOString(),
      status: 'accepted',
      reason: null,
      completedAt: null,
      auditSequence: null,
      ticket: 0,
    };
    const lineKey = `line|${domain}|${user}`;
    for (let attempt = 0; ; attempt++) {
      // A create most often names a new address: its first attempt assumes no counter yet.
      const line = attempt === 0 ? { lastTicket: 0, etag: undefined } : await this.counter(lineKey);
      record.ticket = line.lastTicket + 1;
      try {
        await this.table.submitTransaction(this.admissionActions(record, domain, user, line.etag, now));
        break;
      } catch (error) {
        const status = (error as { statusCode?: number }).statusCode;
        if ((status !== 409 && status !== 412) || attempt >= RACE_RETRIES) throw error;
      }
    }
    const message = {
      schemaVersion: 1,
      ...create,
      changeRequestId: record.id,
      correlationId: record.correlationId,
      actor: record.actor,
      ...record.traceContext,
    };
    await this.queue.sendMessage(Buffer.from(JSON.stringify(message), 'utf8').toString('base64'));
    return { id: record.id, correlationId: record.correlationId, json: JSON.stringify(record) };
  }

  /** The address's last ticket and the counter row's ETag (none: no row yet). */
  private async counter(rowKey: string): Promise<{ lastTicket: number; etag: string | undefined }> {
    try {
      const row = await this.table.getEntity<{ data: string }>(this.options.partition, rowKey);
      return { lastTicket: (JSON.parse(row.data) as { lastTicket: number }).lastTicket, etag: row.etag };
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return { lastTicket: 0, etag: undefined };
      throw error;
    }
  }

  /** The admission's transaction: counter, request, its listings and its place in the waiting list. */
  private admissionActions(
    record: { id: string; request: CreateRequest; actor: string; channel: string; acceptedAt: string; status: string; ticket: number },
    domain: string,
    user: string,
    counterEtag: string | undefined,
    now: number,
  ): TransactionAction[] {
    const partitionKey = this.options.partition;
    const data = JSON.stringify(record);
    const row = (rowKey: string, json: string, columns: Record<string, unknown> = {}): TableEntity => ({
      partitionKey,
      rowKey,
      data: json,
      ...columns,
    });
    const counter = row(`line|${domain}|${user}`, JSON.stringify({ sipAddress: record.request.sipAddress, lastTicket: record.ticket }));
    const listed = {
      status: record.status,
      actor: record.actor,
      channel: record.channel,
      sipAddress: record.request.sipAddress,
      operation: record.request.operation,
      acceptedAt: record.acceptedAt,
    };
    const newestFirst = `${padded(MAX_SEQUENCE - now)}|${record.id}`;
    const listings = [
      'all',
      `actor|${encodeURIComponent(record.actor)}`,
      `status|${record.status}`,
      `address|${domain}|${user}`,
      `operation|${record.request.operation}`,
    ];
    const redriveAt = new Date(now + REDRIVE_AFTER_MS).toISOString();
    return [
      counterEtag === undefined ? ['create', counter] : ['update', counter, 'Replace', { etag: counterEtag }],
      ['create', row(`cr|${record.id}`, data, { status: record.status })],
      ...listings.map((listing): TransactionAction => ['create', row(`crix|${listing}|${newestFirst}`, data, listed)]),
      [
        'create',
        row(`pending|${domain}|${user}|${padded(record.ticket)}`, `{"changeRequest":${data},"redriveAt":"${redriveAt}","sends":1}`, {
          redriveAt,
          sends: 1,
        }),
      ],
    ];
  }
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

function answer(response: http.ServerResponse, status: number, headers: Record<string, string> = {}, body = ''): void {
  response.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

/**
 * The load both sides get: POSTs from `concurrency` callers over keep-alive connections (kept from
 * one run to the next, so a warm-up opens them), each sending its next body when its last answer
 * has been read; every answer must be 202 with a Location.
 */
export class AdmissionLoad {
  private readonly target: URL;
  private readonly agent: http.Agent;

  constructor(
    url: string,
    private readonly authorization: string,
    private readonly concurrency: number,
  ) {
    this.target = new URL(url);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  }

  /** POSTs every body; resolves with each request's latency (ms), from its send to its answer's end. */
  async run(bodies: string[]): Promise<number[]> {
    const latencies = new Array<number>(bodies.length);
    let next = 0;
    const caller = async () => {
      while (next < bodies.length) {
        const i = next++;
        const t0 = performance.now();
        await this.post(bodies[i] as string);
        latencies[i] = performance.now() - t0;
      }
    };
    await Promise.all(Array.from({ length: this.concurrency }, caller));
    return latencies;
  }

  close(): void {
    this.agent.destroy();
  }

  private post(body: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          agent: this.agent,
          host: this.target.hostname,
          port: this.target.port,
          path: this.target.pathname,
          method: 'POST',
          headers: { authorization: this.authorization, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (response) => {
          const accepted = response.statusCode === 202 && response.headers.location !== undefined;
          // A refusal's body says why; an acceptance's is read and dropped, as a caller that only follows the Location would.
          const refusal: Buffer[] = [];
          response.on('data', (chunk: Buffer) => {
            if (!accepted) refusal.push(chunk);
          });
          response.on('end', () => {
            if (accepted) resolve();
            else
              reject(
                new Error(`POST ${this.target.pathname}: ${response.statusCode} ${Buffer.concat(refusal).toString('utf8').slice(0, 500)}`),
              );
          });
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }
}

/** A row key's kind: its first part, with the second when more follow (`cr`, `crix|all`, `line|contoso.com`). */
function kindOf(rowKey: string): string {
  const parts = rowKey.split('|');
  return parts.slice(0, parts.length > 2 ? 2 : 1).join('|');
}

/** An action's shape for comparing two sides: its method, its key's kind, its key's length and its body's bytes. */
const shapeOf = (action: RecordedAction) =>
  `${action.method} ${kindOf(action.rowKey)} (key ${action.rowKey.length}, body ${Buffer.byteLength(action.body)} B)`;

/**
 * The service's admission transaction beside the bare handler's, from the proxy's recordings: the
 * same actions on the same kinds of rows, with keys and bodies of the same lengths, or what differs.
 */
export function compareAdmissionBatches(service: RecordedAction[], bare: RecordedAction[]): string {
  const bytes = (actions: RecordedAction[]) => actions.reduce((sum, a) => sum + Buffer.byteLength(a.body), 0);
  const summary = `service admission ${service.length} actions, ${bytes(service)} body bytes; bare ${bare.length} actions, ${bytes(bare)} body bytes`;
  const differences = Array.from({ length: Math.max(service.length, bare.length) }, (_, i) => {
    const [s, b] = [service[i], bare[i]].map((action) => (action ? shapeOf(action) : 'nothing'));
    return s === b ? undefined : `#${i + 1}: service ${s}, bare ${b}`;
  }).filter((difference): difference is string => difference !== undefined);
  return differences.length ? `${summary}; ROWS DIFFER: ${differences.join('; ')}` : `${summary}; same rows, key and body sizes`;
}
