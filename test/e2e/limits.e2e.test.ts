import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aTopology } from '../support/apiData';
import { aCreateRequest } from '../support/builders';
import { apiClient, startE2EEnvironment, type E2EEnvironment } from '../support/localHost';

/**
 * The documented limits over real HTTP, on a host of its own with a deliberately low submission
 * rate: each is refused with a 4xx problem naming what was too much, and writes nothing.
 */

const SUBMISSIONS_PER_WINDOW = 3;
const EXPORT_LIMIT = 3;

let env: E2EEnvironment;

/** POSTs a JSON body in chunks without Content-Length (Transfer-Encoding: chunked), as a client streaming it would. */
function postChunked(url: string, key: string, chunks: number, chunkBytes: number): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    request.on('error', reject);
    request.write('{"pad":"');
    for (let i = 0; i < chunks; i++) request.write('x'.repeat(chunkBytes));
    request.end('"}');
  });
}

describe('limits over HTTP', () => {
  before(async () => {
    env = await startE2EEnvironment({
      loadDemoTopology: false,
      settings: {
        SUBMISSION_RATE_LIMIT: String(SUBMISSIONS_PER_WINDOW),
        SUBMISSION_RATE_WINDOW_SECONDS: '3600',
        AUDIT_EXPORT_MAX_RECORDS: String(EXPORT_LIMIT),
      },
    });
  });
  after(async () => {
    await env.stop();
  });

  it('answers 429 with Retry-After past the submissions one principal may make, admitting nothing; others are not held up', async () => {
    const operator = apiClient(env.baseUrl, env.keys.operator);
    const submitter = apiClient(env.baseUrl, env.keys.submitter);
    const topology = await aTopology(operator);
    const request = (user: string) => aCreateRequest({ sipAddress: topology.address(user), poolFqdn: topology.pool() });
    for (let i = 0; i < SUBMISSIONS_PER_WINDOW; i++)
      assert.equal((await submitter('POST', '/change-requests', request(`ok${i}`))).status, 202);

    const refused = await submitter('POST', '/change-requests', request('over'));

    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(refused.headers.get('retry-after'), '1200', 'one submission comes back every 3600 s / 3');
    assert.equal(refused.body.code, 'rate_limited');
    assert.deepEqual(
      refused.body.errors.map((e: any) => e.pointer),
      ['#/authorization'],
    );
    const audit = await apiClient(env.baseUrl, env.keys.auditor)('GET', `/audit?subject=${encodeURIComponent(topology.address('over'))}`);
    assert.deepEqual(audit.body.items, [], 'the refused submission left no record');
    assert.equal(
      (await apiClient(env.baseUrl, env.keys.all)('POST', '/change-requests', request('other'))).status,
      202,
      'another principal',
    );
  });

  it('refuses a streamed body past 64 KiB with 413 without reading it all', async () => {
    const response = await postChunked(`${env.baseUrl}/change-requests?dryRun=true`, env.keys.all, 80, 1024);

    assert.equal(response.status, 413);
    assert.equal(response.body.code, 'body_too_large');
    assert.deepEqual(response.body.errors, [{ pointer: '#', detail: 'must be at most 65536 bytes', location: 'body' }]);
  });

  it('refuses pages over 1000, wildcard patterns over 256 characters and filters over their lengths with 400 naming the field', async () => {
    const all = apiClient(env.baseUrl, env.keys.all);
    const cases: Array<[string, string]> = [
      ['/endpoints?limit=1001', '#/limit'],
      [`/endpoints?sipAddress=${'*'.repeat(257)}`, '#/sipAddress'],
      [`/endpoints?displayName=${'a*'.repeat(20)}`, '#/displayName'],
      ['/audit?limit=1001', '#/limit'],
      [`/audit?actor=${'a'.repeat(257)}`, '#/actor'],
      [`/audit?correlation=${'c'.repeat(129)}`, '#/correlation'],
    ];
    for (const [path, pointer] of cases) {
      const response = await all('GET', path);
      assert.equal(response.status, 400, path);
      assert.deepEqual(
        response.body.errors.map((e: any) => e.pointer),
        [pointer],
        path,
      );
    }
  });

  it('ends an export at AUDIT_EXPORT_MAX_RECORDS with a line saying how to export the rest, in NDJSON and CSV', async () => {
    const topology = await aTopology(apiClient(env.baseUrl, env.keys.operator), { pools: 3 });
    const auditor = (path: string) => fetch(`${env.baseUrl}${path}`, { headers: { authorization: `Bearer ${env.keys.auditor}` } });
    const filter = `correlation=${topology.correlationId}`;

    const ndjson = await auditor(`/audit?format=ndjson&${filter}`);
    const lines = (await ndjson.text())
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);

    assert.equal(ndjson.headers.get('x-export-limit'), String(EXPORT_LIMIT));
    assert.deepEqual(
      lines.map((line) => line.action),
      ['pool.registered', 'pool.registered', 'pool.registered', 'export.truncated'],
      'newest first: the three pools, then the cut (the SIP domain record is left for the next export)',
    );
    const [, , third, cut] = lines as [unknown, unknown, { time: string }, Record<string, unknown>];
    assert.deepEqual(cut, {
      action: 'export.truncated',
      limit: EXPORT_LIMIT,
      until: third.time,
      message: `the export stops at its limit of ${EXPORT_LIMIT} records; export the rest with until=${third.time}`,
    });
    const rest = await (await auditor(`/audit?format=ndjson&${filter}&until=${encodeURIComponent(third.time)}`)).text();
    assert.ok(rest.includes('"sip-domain.added"'), 'the rest is one export away');

    const csv = (await (await auditor(`/audit?format=csv&${filter}`)).text()).trimEnd().split('\r\n');
    assert.equal(csv.length, 1 + EXPORT_LIMIT + 1, 'header, three records, the cut');
    assert.match(csv[csv.length - 1] ?? '', /^,,,export\.truncated,.*the export stops at its limit of 3 records/);
  });

  it('answers GET /api/health anonymously with the status alone, and /api/health/ready with each check to a caller with a key', async () => {
    const anonymous = apiClient(env.baseUrl);
    const live = await anonymous('GET', '/health');
    const ready = await anonymous('GET', '/health/ready');
    const readyToReader = await apiClient(env.baseUrl, env.keys.reader)('GET', '/health/ready');

    assert.deepEqual([live.status, live.body, live.headers.get('cache-control')], [200, { status: 'ok' }, 'no-store']);
    assert.deepEqual([ready.status, ready.body], [200, { status: 'ready' }]);
    assert.deepEqual([readyToReader.status, readyToReader.body], [200, { status: 'ready', checks: { storage: 'ok', messaging: 'ok' } }]);
  });
});

describe('readiness while storage or the queues are down', () => {
  it('answers /api/health/ready 503 with Retry-After while Azurite is stopped, and /api/health still 200', async () => {
    const own = await startE2EEnvironment({ loadDemoTopology: false });
    try {
      await own.azurite.stop();

      const ready = await apiClient(own.baseUrl)('GET', '/health/ready');
      const readyToReader = await apiClient(own.baseUrl, own.keys.reader)('GET', '/health/ready');
      const live = await apiClient(own.baseUrl)('GET', '/health');

      assert.deepEqual([ready.status, ready.body], [503, { status: 'unavailable' }]);
      assert.match(ready.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);
      assert.deepEqual(readyToReader.body, { status: 'unavailable', checks: { storage: 'unavailable', messaging: 'unavailable' } });
      assert.deepEqual([live.status, live.body], [200, { status: 'ok' }]);
    } finally {
      await own.stop().catch(() => undefined);
    }
  });

  it('answers /api/health/ready 503 naming the messaging check while only the queue server is stopped', async () => {
    const own = await startE2EEnvironment({ loadDemoTopology: false });
    try {
      await own.azurite.stopQueues();

      const ready = await apiClient(own.baseUrl)('GET', '/health/ready');
      const readyToReader = await apiClient(own.baseUrl, own.keys.reader)('GET', '/health/ready');

      assert.deepEqual([ready.status, ready.body], [503, { status: 'unavailable' }]);
      assert.match(ready.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);
      assert.deepEqual(
        [readyToReader.status, readyToReader.body],
        [503, { status: 'unavailable', checks: { storage: 'ok', messaging: 'unavailable' } }],
      );
    } finally {
      await own.stop().catch(() => undefined);
    }
  });
});
