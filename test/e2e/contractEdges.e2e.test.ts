import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { MessageBus } from '../../shared/application/ports/messageBus';
import { aTopology, pathOf, submitAndSettle } from '../support/apiData';
import { aCreateRequest } from '../support/builders';
import { apiClient, startE2EEnvironment, type ApiCall, type E2EEnvironment } from '../support/localHost';

/**
 * The contract's small edges over real HTTP (issue 11, item 4): identity by display name, pool
 * wildcards, repeated PUTs, Retry-After, absolute Locations on the configured origin, X-Correlation-Id
 * on every answer, and problem `type` URIs that resolve to a page explaining the code.
 */

let env: E2EEnvironment;
/** While true, the bus sends nothing: a request submitted then stays `accepted`. */
let holdMessages = false;

const call: ApiCall = (...args) => apiClient(env.baseUrl, env.keys.all)(...args);
/** The origin the local host publishes: http://localhost:<its port>, whatever Host a caller sends. */
const origin = () => `http://localhost:${new URL(env.baseUrl).port}`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A request node:http sends as given (fetch may not forge Host): status, headers and body text. */
function rawRequest(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  const url = new URL(`${env.baseUrl}${path}`);
  return new Promise((resolve, reject) => {
    const request = http.request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** The bus, holding every send while `holdMessages` is set. */
function holdable(bus: MessageBus): MessageBus {
  return new Proxy(bus, {
    get(target, property, receiver) {
      if (property === 'send')
        return (...args: Parameters<MessageBus['send']>) => (holdMessages ? Promise.resolve() : target.send(...args));
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

before(async () => {
  env = await startE2EEnvironment({
    loadDemoTopology: false,
    adapt: (composition) => ({ ...composition, bus: holdable(composition.bus) }),
  });
});
after(async () => {
  await env?.stop();
});

describe('GET /api/endpoints/{identity}', () => {
  it('finds an endpoint by its display name, by SIP address in any case of sip:, and answers 404 for a name nobody has', async () => {
    const topology = await aTopology(call, { pools: 1 });
    const displayName = `Room ${topology.domain}`;
    const sipAddress = topology.address('room');
    await submitAndSettle(call, aCreateRequest({ sipAddress, poolFqdn: topology.pool(), displayName }));

    const byName = await call('GET', `/endpoints/${pathOf(displayName)}`);
    assert.equal(byName.status, 200);
    assert.deepEqual([byName.body.sipAddress, byName.body.displayName], [sipAddress, displayName]);

    const byAddress = await call('GET', `/endpoints/${pathOf(sipAddress.replace(/^sip:/, 'SIP:'))}`);
    assert.equal(byAddress.status, 200);
    assert.equal(byAddress.body.sipAddress, sipAddress);

    const none = await call('GET', `/endpoints/${pathOf(`Nobody ${topology.domain}`)}`);
    assert.equal(none.status, 404);
    assert.equal(none.body.code, 'endpoint_not_found');
  });

  it('answers 409 endpoint_identity_ambiguous listing every match when endpoints share the display name', async () => {
    const topology = await aTopology(call, { pools: 2 });
    const displayName = `Shared ${topology.domain}`;
    const first = topology.address('first');
    const second = topology.address('second');
    await submitAndSettle(call, aCreateRequest({ sipAddress: first, poolFqdn: topology.pool(0), displayName }));
    await submitAndSettle(call, aCreateRequest({ sipAddress: second, poolFqdn: topology.pool(1), displayName }));

    const answer = await call('GET', `/endpoints/${pathOf(displayName)}`);

    assert.equal(answer.status, 409);
    assert.equal(answer.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(answer.body.code, 'endpoint_identity_ambiguous');
    assert.equal(answer.body.type, `${origin()}/api/problems/endpoint_identity_ambiguous`);
    assert.deepEqual([...answer.body.matches].sort(), [first, second].sort());
  });

  it('refuses an identity that is neither a SIP address nor a display name, naming the path field', async () => {
    const answer = await call('GET', `/endpoints/${pathOf('sip:not an address')}`);
    assert.equal(answer.status, 400);
    assert.equal(answer.body.errors[0].pointer, '#/identity');
    assert.equal(answer.body.errors[0].location, 'path');
  });
});

describe('GET /api/endpoints?poolFqdn=<pattern>', () => {
  it('matches pools by * wildcard, an exact name still exactly, and refuses a pattern with characters no FQDN has', async () => {
    const topology = await aTopology(call, { pools: 2 });
    const all = await call('GET', `/endpoints?poolFqdn=${encodeURIComponent(`PC*.${topology.domain}`)}`);
    assert.equal(all.status, 200);
    assert.deepEqual(all.body.items.map((e: any) => e.sipAddress).sort(), [...topology.defaultEndpoints].sort());

    const second = await call('GET', `/endpoints?poolFqdn=${encodeURIComponent(`*2.${topology.domain}`)}`);
    assert.deepEqual(
      second.body.items.map((e: any) => e.sipAddress),
      [topology.defaultEndpoint(1)],
    );

    const exact = await call('GET', `/endpoints?poolFqdn=${topology.pool(0)}`);
    assert.deepEqual(
      exact.body.items.map((e: any) => e.sipAddress),
      [topology.defaultEndpoint(0)],
    );

    const bad = await call('GET', `/endpoints?poolFqdn=${encodeURIComponent('pc*/x')}`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].pointer, '#/poolFqdn');
  });
});

describe('a repeated PUT of a topology object', () => {
  it('answers 201 with an absolute Location, then 200 with the same body, for a domain, a pool and a user', async () => {
    const topology = await aTopology(call, { pools: 0 });
    const pool = `pcx.${topology.domain}`;
    const user = topology.address('legacy');
    const puts: Array<[string, unknown]> = [
      [`/topology/sip-domains/extra.${topology.domain}`, undefined],
      [`/topology/pools/${pool}`, { defaultEndpointSipAddress: topology.address('pcx') }],
      [`/topology/users/${pathOf(user)}`, { displayName: 'Lync 2010 Group Chat' }],
    ];
    for (const [path, body] of puts) {
      const first = await call('PUT', path, body);
      const again = await call('PUT', path, body);
      assert.deepEqual([first.status, again.status], [201, 200], path);
      assert.deepEqual(again.body, first.body, path);
      assert.equal(first.headers.get('location'), `${origin()}/api${path}`, path);
    }
  });
});

describe('Retry-After and Location on a change request', () => {
  it('202 carries Retry-After: 1 and an absolute Location; the status answer carries it while accepted, and not once settled', async () => {
    const topology = await aTopology(call);
    holdMessages = true;
    try {
      const accepted = await call(
        'POST',
        '/change-requests',
        aCreateRequest({ sipAddress: topology.address('wait'), poolFqdn: topology.pool() }),
      );
      assert.equal(accepted.status, 202);
      const id = accepted.body.id as string;
      assert.equal(accepted.headers.get('retry-after'), '1');
      assert.equal(accepted.headers.get('location'), `${origin()}/api/change-requests/${id}`);

      const waiting = await call('GET', `/change-requests/${id}`);
      assert.deepEqual([waiting.status, waiting.body.status, waiting.headers.get('retry-after')], [200, 'accepted', '1']);
    } finally {
      holdMessages = false;
    }
    // Another address's request, delivered: once applied there is nothing to wait for.
    const settled = await submitAndSettle(
      call,
      aCreateRequest({ sipAddress: topology.address('done'), poolFqdn: topology.pool(), displayName: 'Done' }),
    );
    const read = await call('GET', `/change-requests/${settled.id}`);
    assert.deepEqual([read.body.status, read.headers.get('retry-after')], ['applied', null]);
  });

  it('builds Location on the configured origin, never on a forged Host or X-Forwarded-Host', async () => {
    const topology = await aTopology(call);
    const answer = await rawRequest(
      'POST',
      '/change-requests',
      {
        host: 'evil.example',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-proto': 'https',
        authorization: `Bearer ${env.keys.all}`,
        'content-type': 'application/json',
      },
      JSON.stringify(aCreateRequest({ sipAddress: topology.address('forged'), poolFqdn: topology.pool() })),
    );
    assert.equal(answer.status, 202);
    const id = JSON.parse(answer.text).id as string;
    assert.equal(answer.headers.location, `${origin()}/api/change-requests/${id}`);

    const put = await rawRequest('PUT', `/topology/sip-domains/forged.${topology.domain}`, {
      host: 'evil.example:8443',
      'x-forwarded-host': 'evil.example',
      authorization: `Bearer ${env.keys.all}`,
    });
    assert.equal(put.status, 201);
    assert.equal(put.headers.location, `${origin()}/api/topology/sip-domains/forged.${topology.domain}`);
  });
});

describe('X-Correlation-Id on every answer', () => {
  const given = 'ticket-4711';
  const cases: Array<{ name: string; status: number; send: () => Promise<{ status: number; headers: http.IncomingHttpHeaders }> }> = [
    {
      name: 'a 200',
      status: 200,
      send: () => rawRequest('GET', '/topology', { authorization: `Bearer ${env.keys.reader}`, 'x-correlation-id': given }),
    },
    { name: 'a 401', status: 401, send: () => rawRequest('GET', '/topology', { 'x-correlation-id': given }) },
    {
      name: 'a 403',
      status: 403,
      send: () =>
        rawRequest('PUT', '/topology/sip-domains/x.contoso.test', {
          authorization: `Bearer ${env.keys.reader}`,
          'x-correlation-id': given,
        }),
    },
    {
      name: "a function's 404",
      status: 404,
      send: () =>
        rawRequest('GET', '/endpoints/sip%3Anobody%40nowhere.test', {
          authorization: `Bearer ${env.keys.reader}`,
          'x-correlation-id': given,
        }),
    },
    { name: "the host's 404", status: 404, send: () => rawRequest('GET', '/no-such-route', { 'x-correlation-id': given }) },
    { name: "the host's 405", status: 405, send: () => rawRequest('DELETE', '/topology', { 'x-correlation-id': given }) },
    {
      name: 'a 413',
      status: 413,
      send: () =>
        rawRequest(
          'POST',
          '/change-requests',
          { authorization: `Bearer ${env.keys.submitter}`, 'content-type': 'application/json', 'x-correlation-id': given },
          'x'.repeat(70 * 1024),
        ),
    },
    {
      name: 'a 415',
      status: 415,
      send: () =>
        rawRequest(
          'POST',
          '/change-requests',
          { authorization: `Bearer ${env.keys.submitter}`, 'content-type': 'text/plain', 'x-correlation-id': given },
          '{}',
        ),
    },
    { name: 'the liveness answer', status: 200, send: () => rawRequest('GET', '/health', { 'x-correlation-id': given }) },
    { name: 'the review page', status: 200, send: () => rawRequest('GET', '/review', { 'x-correlation-id': given }) },
    { name: 'a problem page', status: 200, send: () => rawRequest('GET', '/problems/forbidden', { 'x-correlation-id': given }) },
  ];
  for (const { name, status, send } of cases) {
    it(`echoes the caller's id on ${name} (${status})`, async () => {
      const answer = await send();
      assert.equal(answer.status, status);
      assert.equal(answer.headers['x-correlation-id'], given);
    });
  }

  it('replaces a malformed id (a forged log line) with a generated one, and generates one when none is sent', async () => {
    const forged = await rawRequest('GET', '/topology', {
      authorization: `Bearer ${env.keys.reader}`,
      'x-correlation-id': 'a b\tc"; level=error',
    });
    assert.equal(forged.status, 200);
    assert.match(String(forged.headers['x-correlation-id']), UUID);

    const none = await rawRequest('GET', '/topology', { authorization: `Bearer ${env.keys.reader}` });
    assert.match(String(none.headers['x-correlation-id']), UUID);
  });

  it('records the echoed id as the audit correlation id of a change it generated one for', async () => {
    const topology = await aTopology(call);
    const answer = await rawRequest('PUT', `/topology/sip-domains/gen.${topology.domain}`, {
      authorization: `Bearer ${env.keys.all}`,
      'x-correlation-id': 'bad id',
    });
    assert.equal(answer.status, 201);
    const id = String(answer.headers['x-correlation-id']);
    const audit = await call('GET', `/audit?correlation=${encodeURIComponent(id)}`);
    assert.deepEqual(
      audit.body.items.map((r: any) => [r.action, r.subject]),
      [['sip-domain.added', `sip-domain:gen.${topology.domain}`]],
    );
  });
});

describe('problem type URIs and GET /api/problems/{code}', () => {
  it("a problem's type is <origin>/api/problems/<code>, and that URL answers an escaped HTML page under a strict CSP", async () => {
    const problem = await call('GET', '/endpoints/sip%3Anobody%40nowhere.test');
    assert.equal(problem.body.type, `${origin()}/api/problems/endpoint_not_found`);

    const page = await fetch(problem.body.type);
    const html = await page.text();
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(
      page.headers.get('content-security-policy') ?? '',
      /^default-src 'none'; style-src 'nonce-[A-Za-z0-9+/=]+'; base-uri 'none'/,
    );
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.match(html, /<h1>No such endpoint<\/h1>/);
    assert.match(html, /<dt>HTTP status<\/dt><dd><code>404<\/code><\/dd>/);
    assert.doesNotMatch(html, /<script/i);
  });

  it('answers the explanation as JSON for Accept: application/json', async () => {
    const answer = await call('GET', '/problems/endpoint_identity_ambiguous', undefined, { accept: 'application/json' });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.code, 'endpoint_identity_ambiguous');
    assert.equal(answer.body.status, 409);
    assert.equal(answer.body.type, `${origin()}/api/problems/endpoint_identity_ambiguous`);
  });

  it('answers 404 problem_type_not_found for an unknown code (a prototype name too), and 400 for text no code has', async () => {
    for (const code of ['no_such_code', 'constructor', '__proto__']) {
      const answer = await apiClient(env.baseUrl)('GET', `/problems/${code}`);
      assert.equal(answer.status, 404, code);
      assert.equal(answer.body.code, 'problem_type_not_found', code);
    }
    const bad = await apiClient(env.baseUrl)('GET', `/problems/${encodeURIComponent('<script>')}`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].pointer, '#/code');
  });
});
