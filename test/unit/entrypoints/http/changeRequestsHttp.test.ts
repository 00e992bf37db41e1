import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InMemoryMessageBus } from '../../../../shared/adapters/memory/InMemoryMessageBus';
import { StorageQueueRules } from '../../../../shared/adapters/transportRules';
import { openTelemetryTracing } from '../../../../shared/adapters/tracing';
import { DEFAULT_DELIVERY_POLICY } from '../../../../shared/application/deliveryPolicy';
import { KeyedMutex } from '../../../../shared/application/keyedMutex';
import { RateLimiter } from '../../../../shared/application/rateLimiter';
import type { Admissions, IdempotencyRecord } from '../../../../shared/application/ports/admissions';
import type { Directory } from '../../../../shared/application/ports/directory';
import { Destination } from '../../../../shared/application/ports/messageBus';
import { GENESIS_HEAD } from '../../../../shared/domain/audit';
import { UnavailableError } from '../../../../shared/domain/errors';
import { Role, type Principal } from '../../../../shared/domain/principal';
import { submitChangeRequestHttp } from '../../../../shared/entrypoints/http/changeRequestsHttp';
import type { HttpInput } from '../../../../shared/entrypoints/http/httpInput';
import { fakeAuthenticator } from '../../../support/fakeAuthenticator';
import { recordingLog } from '../../../support/storeHarness';

/**
 * POST /api/change-requests as a plain function of (dependencies, request): no server, no storage,
 * no process.env. The ports are small fakes of exactly what the entrypoint uses.
 */

const NOW = new Date('2026-11-26T10:00:00.000Z');
const BODY = { operation: 'create', sipAddress: 'SIP:Chat@Contoso.com', poolFqdn: 'pcpool.contoso.com' };

/** An Admissions fake with the port's key semantics: the first admission of a key wins, later ones get it back. */
function fakeAdmissions(): Admissions & { admitted: number } {
  const keys = new Map<string, IdempotencyRecord>();
  const fake: Admissions & { admitted: number } = {
    admitted: 0,
    admit: async (request, options) => {
      const held = options.idempotency && keys.get(options.idempotency.key);
      if (held) return { outcome: 'key-taken', idempotency: held };
      fake.admitted++;
      const changeRequest = { ...request, ticket: fake.admitted };
      if (options.idempotency) keys.set(options.idempotency.key, { ...options.idempotency, changeRequest });
      return { outcome: 'admitted', changeRequest };
    },
    purgeExpiredIdempotencyKeys: async () => 0,
  };
  return fake;
}

/** A directory that holds nothing and refuses to be written (a dry run must never commit). */
const emptyDirectory: Directory = {
  snapshot: async () => ({
    version: '',
    head: GENESIS_HEAD,
    domains: new Map(),
    pools: new Map(),
    holders: new Map(),
    domainsInUse: new Set(),
    changeRequests: new Map(),
    nextWaiting: new Map(),
  }),
  commit: () => Promise.reject(new Error('a dry run must not commit')),
  fits: () => true,
};

const ALICE: Principal = { name: 'alice@contoso.com', roles: new Set([Role.submitter]) };

function dependencies(admissions: Admissions = fakeAdmissions(), principal: Principal | null = ALICE, submissionsPerMinute = 1000) {
  let id = 0;
  return {
    submissionLimiter: new RateLimiter({ limit: submissionsPerMinute, windowMs: 60_000 }, { now: () => NOW }),
    authenticator: fakeAuthenticator(principal),
    admissions,
    directory: emptyDirectory,
    bus: new InMemoryMessageBus(StorageQueueRules),
    clock: { now: () => NOW },
    ids: { next: () => `0190c0de-0000-7000-8000-${String(++id).padStart(12, '0')}` },
    log: recordingLog(),
    tracing: openTelemetryTracing(),
    mutex: new KeyedMutex(),
    delivery: DEFAULT_DELIVERY_POLICY,
  };
}

function aPost(body: unknown, headers: Record<string, string> = {}, query = ''): HttpInput {
  const all = new Map(Object.entries({ 'content-type': 'application/json', ...headers }).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    method: 'POST',
    url: `http://localhost:7071/api/change-requests${query}`,
    headers: { get: (name) => all.get(name.toLowerCase()) ?? null },
    params: {},
    query: new URLSearchParams(query),
    text: async () => (typeof body === 'string' ? body : JSON.stringify(body)),
  };
}

/** The W3C specification's example traceparent. */
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

const bodyOf = (output: { body?: unknown }) => JSON.parse(output.body as string) as Record<string, unknown>;

describe('submitChangeRequestHttp', () => {
  it('answers 202 with Location and the accepted request, normalized, its actor the principal, and queues its message', async () => {
    const deps = dependencies();

    // The principal-name header is the caller's claim about itself: the authenticated principal wins.
    const output = await submitChangeRequestHttp(
      deps,
      aPost(BODY, { 'x-ms-client-principal-name': 'mallory', 'x-correlation-id': 'ticket-1', traceparent: TRACEPARENT }),
    );

    const id = '0190c0de-0000-7000-8000-000000000001';
    assert.equal(output.status, 202);
    assert.deepEqual(output.headers, {
      'content-type': 'application/json; charset=utf-8',
      location: `/api/change-requests/${id}`,
      'retry-after': '1',
    });
    assert.deepEqual(bodyOf(output), {
      id,
      status: 'accepted',
      request: { operation: 'create', sipAddress: 'sip:chat@contoso.com', poolFqdn: 'pcpool.contoso.com' },
      reason: null,
      actor: 'alice@contoso.com',
      correlationId: 'ticket-1',
      traceContext: { traceparent: TRACEPARENT },
      channel: 'http',
      acceptedAt: NOW.toISOString(),
      completedAt: null,
      auditSequence: null,
      ticket: 1,
    });
    assert.deepEqual(
      deps.bus.sent.map((sent) => [sent.destination, sent.message.messageId]),
      [[Destination.endpointCreate, id]],
    );
    // The log line names the request, the caller's correlation id, the principal and the trace; never the body.
    assert.deepEqual(
      deps.log.lines.map((line) => [line.message, line.fields]),
      [
        [
          'change request accepted',
          {
            correlationId: 'ticket-1',
            principal: 'alice@contoso.com',
            changeRequestId: id,
            replayed: false,
            traceId: TRACEPARENT.slice(3, 35),
          },
        ],
      ],
    );
  });

  it('carries a traceparent and tracestate into the queue message', async () => {
    const deps = dependencies();

    const output = await submitChangeRequestHttp(deps, aPost(BODY, { traceparent: TRACEPARENT, tracestate: 'congo=t61rcWkgMzE' }));

    assert.equal(output.status, 202);
    const body = deps.bus.sent[0]?.message.body as Record<string, unknown>;
    assert.equal(body['traceparent'], TRACEPARENT);
    assert.equal(body['tracestate'], 'congo=t61rcWkgMzE');
  });

  for (const malformed of [
    '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', // a version we do not know
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01', // an all-zero trace id
    '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', // an all-zero parent id
    '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01', // upper case
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7', // no flags
  ]) {
    it(`ignores a malformed traceparent (${malformed}): accepted, on a new trace, its tracestate dropped`, async () => {
      const deps = dependencies();

      const output = await submitChangeRequestHttp(deps, aPost(BODY, { traceparent: malformed, tracestate: 'congo=t61rcWkgMzE' }));

      assert.equal(output.status, 202);
      const trace = bodyOf(output)['traceContext'] as { traceparent: string; tracestate?: string };
      assert.match(trace.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
      assert.notEqual(trace.traceparent.slice(3, 35), malformed.slice(3, 35).toLowerCase());
      assert.equal(trace.tracestate, undefined);
      assert.equal((deps.bus.sent[0]?.message.body as Record<string, unknown>)['traceparent'], trace.traceparent);
    });
  }

  it('answers a retry with the same Idempotency-Key with the original 202 and Idempotent-Replayed, admitting nothing new', async () => {
    const deps = dependencies();
    const first = await submitChangeRequestHttp(deps, aPost(BODY, { 'idempotency-key': 'k-1' }));

    const retry = await submitChangeRequestHttp(
      deps,
      aPost({ ...BODY, sipAddress: 'sip:chat@contoso.com' }, { 'idempotency-key': '"k-1"' }),
    );

    assert.equal(retry.status, 202);
    assert.equal(retry.headers?.['idempotent-replayed'], 'true');
    assert.deepEqual(bodyOf(retry), bodyOf(first));
    assert.equal(deps.bus.sent.length, 1, 'one request, one message');
  });

  it('answers 422 idempotency_key_reused when the key comes back with a different request', async () => {
    const deps = dependencies();
    await submitChangeRequestHttp(deps, aPost(BODY, { 'idempotency-key': 'k-1' }));

    const output = await submitChangeRequestHttp(
      deps,
      aPost({ operation: 'delete', sipAddress: 'sip:chat@contoso.com' }, { 'idempotency-key': 'k-1' }),
    );

    assert.equal(output.status, 422);
    assert.deepEqual(bodyOf(output).code, 'idempotency_key_reused');
    assert.deepEqual(bodyOf(output).errors, [
      { pointer: '#/idempotency-key', detail: 'Idempotency-Key must not be reused for a different request body', location: 'header' },
    ]);
  });

  it('answers 429 with Retry-After once the principal has used up its submissions, before reading the body or admitting', async () => {
    const admissions = fakeAdmissions();
    const deps = dependencies(admissions, ALICE, 2);
    assert.equal((await submitChangeRequestHttp(deps, aPost(BODY))).status, 202);
    assert.equal((await submitChangeRequestHttp(deps, aPost('not even json'))).status, 400, 'a refused body still counts');

    const output = await submitChangeRequestHttp(deps, aPost(BODY));

    assert.equal(output.status, 429);
    assert.equal(output.headers?.['retry-after'], '30');
    assert.equal(output.headers?.['content-type'], 'application/problem+json; charset=utf-8');
    assert.deepEqual(bodyOf(output).code, 'rate_limited');
    assert.deepEqual(bodyOf(output).errors, [
      { pointer: '#/authorization', detail: 'the principal has used up its submissions for this window', location: 'header' },
    ]);
    assert.equal(deps.bus.sent.length, 1, 'only the first request was queued');
  });

  it('predicts with ?dryRun=true (200) and neither admits nor queues anything', async () => {
    const admissions = fakeAdmissions();
    const deps = dependencies(admissions);

    const output = await submitChangeRequestHttp(deps, aPost(BODY, {}, '?dryRun=true'));

    assert.equal(output.status, 200);
    assert.deepEqual(bodyOf(output), {
      dryRun: true,
      request: { operation: 'create', sipAddress: 'sip:chat@contoso.com', poolFqdn: 'pcpool.contoso.com' },
      outcome: 'rejected',
      reason: {
        code: 'sip_domain_not_supported',
        message: 'SIP domain contoso.com is not a supported SIP domain of this deployment',
        errors: [{ pointer: '#/sipAddress', detail: 'SIP domain contoso.com is not a supported SIP domain of this deployment' }],
      },
      before: null,
      after: null,
    });
    assert.deepEqual([admissions.admitted, deps.bus.sent.length], [0, 0]);
  });

  it('answers 400 naming the field and the rule, and writes nothing, when the body breaks the schema', async () => {
    const admissions = fakeAdmissions();
    const deps = dependencies(admissions);

    const output = await submitChangeRequestHttp(deps, aPost({ ...BODY, poolFqdn: 'pc pool.contoso.com' }));

    assert.equal(output.status, 400);
    assert.deepEqual(bodyOf(output).errors, [
      {
        pointer: '#/poolFqdn',
        detail: 'poolFqdn FQDN must be a DNS name: labels of 1-63 letters, digits or inner hyphens, the last starting with a letter',
        location: 'body',
      },
    ]);
    assert.deepEqual([admissions.admitted, deps.bus.sent.length], [0, 0]);
  });

  it('answers 503 with Retry-After when storage is unavailable, and 500 internal_error (logged, no Retry-After) for a bug', async () => {
    const outage: Admissions = {
      ...fakeAdmissions(),
      admit: () => Promise.reject(new UnavailableError('service_unavailable', 'table storage is unavailable')),
    };
    const bug: Admissions = { ...fakeAdmissions(), admit: () => Promise.reject(new TypeError('undefined is not a function')) };
    const bugDeps = dependencies(bug);

    const unavailable = await submitChangeRequestHttp(dependencies(outage), aPost(BODY));
    const broken = await submitChangeRequestHttp(bugDeps, aPost(BODY));

    assert.deepEqual(
      [unavailable.status, unavailable.headers?.['retry-after'], bodyOf(unavailable).code],
      [503, '5', 'service_unavailable'],
    );
    assert.deepEqual([broken.status, broken.headers?.['retry-after'], bodyOf(broken).code], [500, undefined, 'internal_error']);
    assert.deepEqual(bugDeps.log.warnings, ['request failed']);
  });

  it('answers 401 with WWW-Authenticate before reading the body, and admits nothing, without credentials', async () => {
    const admissions = fakeAdmissions();
    const deps = dependencies(admissions, null);
    let bodyRead = false;
    const request = { ...aPost(BODY), text: async () => ((bodyRead = true), JSON.stringify(BODY)) };

    const output = await submitChangeRequestHttp(deps, request);

    assert.deepEqual(
      [output.status, output.headers?.['www-authenticate'], bodyOf(output).code],
      [401, 'Bearer realm="test"', 'unauthenticated'],
    );
    assert.deepEqual([bodyRead, admissions.admitted, deps.bus.sent.length], [false, 0, 0]);
    assert.deepEqual(deps.log.infos, ['request refused']);
  });

  it('answers 403 naming the submitter role to a principal without it, before reading the body', async () => {
    const admissions = fakeAdmissions();
    const deps = dependencies(admissions, { name: 'rita', roles: new Set([Role.reader, Role.auditor]) });
    let bodyRead = false;
    const request = { ...aPost(BODY), text: async () => ((bodyRead = true), JSON.stringify(BODY)) };

    const output = await submitChangeRequestHttp(deps, request);

    assert.equal(output.status, 403);
    assert.deepEqual(bodyOf(output), {
      type: '/api/problems/forbidden',
      title: 'Forbidden',
      status: 403,
      detail: "this operation needs the submitter role; the caller's roles: reader, auditor",
      code: 'forbidden',
      errors: [
        {
          pointer: '#/authorization',
          detail: "this operation needs the submitter role; the caller's roles: reader, auditor",
          location: 'header',
        },
      ],
    });
    assert.equal(output.headers?.['www-authenticate'], undefined);
    assert.deepEqual([bodyRead, admissions.admitted, deps.bus.sent.length], [false, 0, 0]);
  });
});
