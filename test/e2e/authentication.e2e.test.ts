import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TableClient } from '@azure/data-tables';
import { aCorrelationId, aTopology, auditFor, auditUnder, pathOf, settledRequest, submitAndSettle } from '../support/apiData';
import { aCreateRequest, aDeleteRequest } from '../support/builders';
import { partitionRows } from '../support/storeHarness';
import { apiClient, startE2EEnvironment, type ApiResponse, type E2EEnvironment } from '../support/localHost';

/**
 * Authentication and roles over real HTTP (AUTH_MODE=keys, the local default): who may call which
 * route, what a refusal looks like, that a refusal writes nothing, and that the actor is always the
 * authenticated principal.
 */

let env: E2EEnvironment;

/** A second submitter, to show one submitter cannot read another's requests. */
const OTHER_SUBMITTER = {
  principal: `e2e-other-submitter-${randomBytes(4).toString('hex')}`,
  roles: ['submitter'],
  key: randomBytes(32).toString('base64url'),
};

type Caller = 'submitter' | 'operator' | 'auditor' | 'reader' | 'all';
const as = (caller: Caller) => apiClient(env.baseUrl, env.keys[caller]);
const anonymous = () => apiClient(env.baseUrl);

/** Every row of the directory table (the deployment's whole state) with its ETag: any write changes this. */
async function storedState(): Promise<string[]> {
  const table = TableClient.fromConnectionString(env.azurite.connectionString, 'directory', { allowInsecureConnection: true });
  const rows = await partitionRows(table, 'default');
  return rows.map((row) => `${row.rowKey} ${row.etag}`).sort();
}

/**
 * The stored state once the host has published its events and swept their outbox rows (a second
 * after publishing, if no commit carried them sooner): a row leaving the outbox during the refusals
 * would be that background work, not a refused request's write.
 */
async function settledState(): Promise<string[]> {
  for (const deadline = Date.now() + 10_000; ; await new Promise((resolve) => setTimeout(resolve, 100))) {
    const state = await storedState();
    if (!state.some((row) => row.startsWith('outbox|')) || Date.now() > deadline) return state;
  }
}

/** A route and a request to it that would succeed (and, for a write, change something) with the right role. */
interface RouteCase {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  /** Callers that hold none of the roles the route needs. */
  wrongRoles: Caller[];
  /** The role named by the 403. */
  needs: string;
}

/** The problem document's shape for a refusal, and the header it names. */
function assertRefusal(response: ApiResponse, status: 401 | 403, what: string): void {
  assert.equal(response.status, status, `${what}: ${JSON.stringify(response.body)}`);
  assert.equal(response.headers.get('content-type'), 'application/problem+json; charset=utf-8', what);
  assert.equal(response.body.status, status, what);
  assert.equal(response.body.code, status === 401 ? 'unauthenticated' : 'forbidden', what);
  assert.deepEqual(
    response.body.errors.map((e: any) => [e.pointer, e.location]),
    [['#/authorization', 'header']],
    what,
  );
  assert.equal(response.headers.get('www-authenticate'), status === 401 ? 'Bearer realm="pchat"' : null, what);
}

describe('authentication and roles over HTTP (AUTH_MODE=keys)', () => {
  before(async () => {
    env = await startE2EEnvironment({ loadDemoTopology: false, extraKeys: [OTHER_SUBMITTER] });
  });
  after(async () => {
    await env.stop();
  });

  it('refuses every route without valid credentials (401) or without its role (403), and neither writes anything', async () => {
    const topology = await aTopology(as('operator'), { users: ['ocschat'] });
    const accepted = await as('submitter')('POST', '/change-requests', aDeleteRequest({ sipAddress: topology.address('nobody') }));
    await settledRequest(as('all'), accepted.body.id);
    const fresh = topology.address('fresh');
    const routes: RouteCase[] = [
      {
        name: 'submit',
        method: 'POST',
        path: '/change-requests',
        body: aCreateRequest({ sipAddress: fresh, poolFqdn: topology.pool() }),
        wrongRoles: ['operator', 'auditor', 'reader'],
        needs: 'the submitter role',
      },
      {
        name: 'dry run',
        method: 'POST',
        path: '/change-requests?dryRun=true',
        body: aCreateRequest({ sipAddress: fresh, poolFqdn: topology.pool() }),
        wrongRoles: ['operator', 'auditor', 'reader'],
        needs: 'the submitter role',
      },
      {
        name: 'read a change request',
        method: 'GET',
        path: `/change-requests/${accepted.body.id}`,
        wrongRoles: ['reader'],
        needs: 'one of the roles submitter, operator, auditor',
      },
      {
        name: 'list change requests',
        method: 'GET',
        path: '/change-requests?status=applied',
        wrongRoles: ['reader'],
        needs: 'one of the roles submitter, operator, auditor',
      },
      {
        name: 'cancel a change request',
        method: 'POST',
        path: `/change-requests/${accepted.body.id}/cancel`,
        wrongRoles: ['auditor', 'reader'],
        needs: 'one of the roles submitter, operator',
      },
      {
        name: 'add a SIP domain',
        method: 'PUT',
        path: '/topology/sip-domains/new.example.test',
        wrongRoles: ['submitter', 'auditor', 'reader'],
        needs: 'the operator role',
      },
      {
        name: 'remove a SIP domain',
        method: 'DELETE',
        path: `/topology/sip-domains/${topology.domain}`,
        wrongRoles: ['submitter', 'auditor', 'reader'],
        needs: 'the operator role',
      },
      {
        name: 'register a pool',
        method: 'PUT',
        path: `/topology/pools/pcnew.${topology.domain}`,
        body: {},
        wrongRoles: ['submitter', 'auditor', 'reader'],
        needs: 'the operator role',
      },
      {
        name: 'retire a pool',
        method: 'DELETE',
        path: `/topology/pools/${topology.pool()}`,
        wrongRoles: ['submitter', 'auditor', 'reader'],
        needs: 'the operator role',
      },
      {
        name: 'add a user',
        method: 'PUT',
        path: `/topology/users/${pathOf(topology.address('newuser'))}`,
        body: {},
        wrongRoles: ['submitter', 'auditor', 'reader'],
        needs: 'the operator role',
      },
      {
        name: 'remove a user',
        method: 'DELETE',
        path: `/topology/users/${pathOf(topology.address('ocschat'))}`,
        wrongRoles: ['submitter', 'auditor', 'reader'],
        needs: 'the operator role',
      },
      { name: 'audit records', method: 'GET', path: '/audit', wrongRoles: ['submitter', 'operator', 'reader'], needs: 'the auditor role' },
      {
        name: 'audit export (csv)',
        method: 'GET',
        path: '/audit?format=csv',
        wrongRoles: ['submitter', 'operator', 'reader'],
        needs: 'the auditor role',
      },
      {
        name: 'audit export (ndjson)',
        method: 'GET',
        path: '/audit?format=ndjson',
        wrongRoles: ['submitter', 'operator', 'reader'],
        needs: 'the auditor role',
      },
      {
        name: 'audit timeline',
        method: 'GET',
        path: '/audit/timeline?timeZone=America/New_York',
        wrongRoles: ['submitter', 'operator', 'reader'],
        needs: 'the auditor role',
      },
      {
        name: 'audit verify',
        method: 'GET',
        path: '/audit/verify',
        wrongRoles: ['submitter', 'operator', 'reader'],
        needs: 'the auditor role',
      },
      {
        name: 'audit signing keys',
        method: 'GET',
        path: '/audit/signing-keys',
        wrongRoles: ['submitter', 'operator', 'reader'],
        needs: 'the auditor role',
      },
      {
        name: 'start an audit verification',
        method: 'POST',
        path: '/audit/verifications',
        body: { mode: 'full' },
        wrongRoles: ['submitter', 'operator', 'reader'],
        needs: 'the auditor role',
      },
      {
        name: 'audit checkpoints',
        method: 'GET',
        path: '/audit/checkpoints',
        wrongRoles: ['submitter', 'operator', 'reader'],
        needs: 'the auditor role',
      },
      {
        name: 'audit checkpoints (ndjson)',
        method: 'GET',
        path: '/audit/checkpoints?format=ndjson',
        wrongRoles: ['submitter', 'operator', 'reader'],
        needs: 'the auditor role',
      },
      {
        name: 'an audit verification',
        method: 'GET',
        path: '/audit/verifications/01890a5d-ac96-7d6b-8a4e-0b2a2c4f5e61',
        wrongRoles: ['submitter', 'operator', 'reader'],
        needs: 'the auditor role',
      },
      { name: 'endpoints', method: 'GET', path: '/endpoints', wrongRoles: [], needs: '' },
      { name: 'one endpoint', method: 'GET', path: `/endpoints/${pathOf(topology.defaultEndpoint())}`, wrongRoles: [], needs: '' },
      { name: 'topology', method: 'GET', path: '/topology', wrongRoles: [], needs: '' },
    ];
    const before = await settledState();
    const forged = {
      'x-ms-client-principal': Buffer.from(
        JSON.stringify({
          claims: [
            { typ: 'preferred_username', val: 'mallory' },
            { typ: 'roles', val: 'operator' },
          ],
        }),
      ).toString('base64'),
      'x-ms-client-principal-name': 'mallory',
    };

    for (const route of routes) {
      const send = (call: ReturnType<typeof apiClient>, headers: Record<string, string> = {}) =>
        call(route.method, route.path, route.body, headers);
      assertRefusal(await send(anonymous()), 401, `${route.name} without credentials`);
      assertRefusal(await send(anonymous(), forged), 401, `${route.name} with a forged App Service principal`);
      assertRefusal(await send(anonymous(), { authorization: `Bearer ${'x'.repeat(43)}` }), 401, `${route.name} with an unknown key`);
      assertRefusal(await send(anonymous(), { authorization: `Basic ${env.keys.all}` }), 401, `${route.name} with another scheme`);
      for (const caller of route.wrongRoles) {
        const refused = await send(as(caller));
        assertRefusal(refused, 403, `${route.name} as ${caller}`);
        assert.match(refused.body.detail, new RegExp(`^this operation needs ${route.needs};`), route.name);
      }
    }

    assert.deepEqual(await storedState(), before, 'no refusal wrote anything');
    // And each route does answer the right role (reads by every role), so the refusals above were about the caller.
    for (const caller of ['submitter', 'operator', 'auditor', 'reader'] as const) {
      for (const path of ['/endpoints', `/endpoints/${pathOf(topology.defaultEndpoint())}`, '/topology'])
        assert.equal((await as(caller)('GET', path)).status, 200, `${caller} reads ${path}`);
    }
    assert.equal((await as('submitter')('POST', '/change-requests?dryRun=true', routes[1]?.body)).status, 200);
    assert.equal((await as('auditor')('GET', '/audit/verify')).status, 200);
    assert.equal((await as('auditor')('GET', '/audit/signing-keys')).status, 200);
    assert.equal((await as('operator')('PUT', `/topology/sip-domains/new.${topology.domain}`)).status, 201);
  });

  it('serves the review page itself anonymously (it holds no data)', async () => {
    const page = await fetch(`${env.baseUrl}/review`);

    assert.deepEqual([page.status, page.headers.get('content-type')], [200, 'text/html; charset=utf-8']);
  });

  it("answers a submitter asking for another principal's request exactly as for a missing id; operators and auditors read it", async () => {
    const topology = await aTopology(as('operator'));
    const mine = await submitAndSettle(
      as('submitter'),
      aCreateRequest({ sipAddress: topology.address('chat'), poolFqdn: topology.pool() }),
    );
    const other = apiClient(env.baseUrl, OTHER_SUBMITTER.key);
    const missingId = randomUUID();

    const asOther = await other('GET', `/change-requests/${mine.id}`);
    const missing = await other('GET', `/change-requests/${missingId}`);

    assert.equal(asOther.status, 404);
    assert.deepEqual(
      { ...asOther.body, detail: asOther.body.detail.replace(mine.id, '<id>') },
      { ...missing.body, detail: missing.body.detail.replace(missingId, '<id>') },
    );
    assert.deepEqual([...asOther.headers.keys()].sort(), [...missing.headers.keys()].sort());
    for (const caller of ['submitter', 'operator', 'auditor'] as const) {
      const read = await as(caller)('GET', `/change-requests/${mine.id}`);
      assert.deepEqual([read.status, read.body.id, read.body.actor], [200, mine.id, env.principals.submitter], caller);
    }
  });

  it('records the authenticated principal as the actor, whatever principal headers the caller sends', async () => {
    const topology = await aTopology(as('operator'));
    const correlationId = aCorrelationId();
    const claims = {
      'x-correlation-id': correlationId,
      'x-ms-client-principal-name': 'mallory',
      'x-ms-client-principal-id': 'mallory-id',
      'x-ms-client-principal': Buffer.from(JSON.stringify({ claims: [{ typ: 'preferred_username', val: 'mallory' }] })).toString('base64'),
    };

    const request = await submitAndSettle(
      as('submitter'),
      aCreateRequest({ sipAddress: topology.address('chat'), poolFqdn: topology.pool() }),
      claims,
    );
    const user = topology.address('legacy');
    const put = await as('operator')('PUT', `/topology/users/${pathOf(user)}`, { displayName: 'Group Chat' }, claims);

    assert.deepEqual([request.status, request.actor, put.status], ['applied', env.principals.submitter, 201]);
    const records = await auditUnder(as('auditor'), correlationId);
    assert.deepEqual(
      records.map((r) => [r.subject, r.actor]).sort(),
      [
        [topology.address('chat'), env.principals.submitter],
        [user, env.principals.operator],
      ].sort(),
    );
    const byMallory = await as('auditor')('GET', '/audit?actor=mallory');
    assert.deepEqual(byMallory.body.items, []);
    assert.equal((await auditFor(as('auditor'), user))[0]?.actor, env.principals.operator);
  });

  it('logs refusals with the correlation id and the principal, and never a key or header value', async () => {
    const correlationId = aCorrelationId();
    await as('reader')('PUT', '/topology/sip-domains/logged.example.test', undefined, { 'x-correlation-id': correlationId });
    await anonymous()('GET', '/audit', undefined, {
      'x-correlation-id': correlationId,
      authorization: 'Bearer wrong-key-that-must-not-be-logged-0000',
    });

    const lines = env.logs.filter((line) => line.includes(correlationId)).map((line) => JSON.parse(line));
    assert.deepEqual(
      lines.map((l) => [l.message, l.status, l.path, l.principal, l.correlationId]),
      [
        ['request refused', 403, '/api/topology/sip-domains/logged.example.test', env.principals.reader, correlationId],
        ['request refused', 401, '/api/audit', null, correlationId],
      ],
    );
    const everything = env.logs.join('\n');
    for (const secret of [...Object.values(env.keys), OTHER_SUBMITTER.key, 'wrong-key-that-must-not-be-logged'])
      assert.equal(everything.includes(secret), false, 'no key in the log');
  });
});
