import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aTopology } from '../support/apiData';
import { apiClient, startE2EEnvironment, type ApiResponse, type E2EEnvironment } from '../support/localHost';

/**
 * Asynchronous audit verification over real HTTP with auth on: POST answers 202 with an absolute
 * Location at once, GET there answers progress until the result; the second run is incremental,
 * based on the first's signed record.
 */

let env: E2EEnvironment;
const auditor = () => apiClient(env.baseUrl, env.keys.auditor);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** GETs the Location until the operation is no longer running, keeping every answer seen. */
async function followed(location: string): Promise<Array<{ status: number; retryAfter: string | null; body: any }>> {
  const seen: Array<{ status: number; retryAfter: string | null; body: any }> = [];
  const deadline = Date.now() + 30_000;
  for (;;) {
    const response = await fetch(location, { headers: { authorization: `Bearer ${env.keys.auditor}` } });
    const body = await response.json();
    seen.push({ status: response.status, retryAfter: response.headers.get('retry-after'), body });
    if (body.status !== 'running' || Date.now() > deadline) return seen;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function assertProblem(response: ApiResponse, status: number, code: string, pointer: string): void {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.equal(response.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  assert.equal(response.body.code, code);
  if (pointer)
    assert.deepEqual(
      response.body.errors.map((e: any) => e.pointer),
      [pointer],
    );
}

describe('POST /api/audit/verifications over real HTTP', () => {
  before(async () => {
    const key = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    env = await startE2EEnvironment({ settings: { AUDIT_SIGNING_KEY: key } });
  });
  after(async () => {
    await env?.stop();
  });

  it('202 + Location at once; GET there answers progress and then the result; the next run is incremental', async () => {
    await aTopology(apiClient(env.baseUrl, env.keys.all));
    const head = (await auditor()('GET', '/audit?limit=1')).body.items[0].sequence as number;

    const started = await auditor()('POST', '/audit/verifications', { mode: 'full' });

    assert.equal(started.status, 202, JSON.stringify(started.body));
    const location = started.headers.get('location') ?? '';
    assert.match(location, /^http:\/\/[^/]+\/api\/audit\/verifications\/[0-9a-f-]{36}$/);
    assert.equal(started.headers.get('retry-after'), '1');
    assert.match(started.body.id, UUID);
    assert.ok(location.endsWith(`/${started.body.id}`));
    assert.deepEqual(
      [started.body.mode, started.body.status, started.body.requestedBy, started.body.result, started.body.error],
      ['full', 'running', env.principals.auditor, null, null],
    );

    const answers = await followed(location);
    const done = answers.at(-1)?.body;
    assert.ok(answers.every((a) => a.status === 200));
    assert.ok(
      answers.filter((a) => a.body.status === 'running').every((a) => a.retryAfter === '1'),
      'Retry-After while running',
    );
    assert.equal(answers.at(-1)?.retryAfter, null, 'no Retry-After once done');
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.ok(
      done.progress.recordsToCheck >= head && done.progress.recordsChecked === done.progress.recordsToCheck,
      JSON.stringify(done.progress),
    );
    assert.deepEqual(
      [done.result.intact, done.result.mode, done.result.verifiedFrom, done.result.basedOn, done.result.firstBreak],
      [true, 'full', 1, null, null],
    );

    await aTopology(apiClient(env.baseUrl, env.keys.all));
    const next = await auditor()('POST', '/audit/verifications', {});
    assert.equal(next.status, 202);
    const second = (await followed(next.headers.get('location') ?? '')).at(-1)?.body;
    assert.deepEqual(
      [second.status, second.mode, second.result.intact, second.result.mode, second.result.basedOn],
      ['succeeded', 'incremental', true, 'incremental', { id: done.id, sequence: done.result.head.sequence }],
    );
    assert.equal(second.result.verifiedFrom, done.result.head.sequence + 1);
    assert.equal(second.result.recordsChecked, second.result.head.sequence - done.result.head.sequence);

    // The synchronous route runs the same incremental check inside the request.
    const sync = await auditor()('GET', '/audit/verify');
    assert.deepEqual([sync.status, sync.body.intact, sync.body.mode], [200, true, 'incremental']);
    const full = await auditor()('GET', '/audit/verify?full=true');
    assert.deepEqual([full.status, full.body.mode, full.body.verifiedFrom], [200, 'full', 1]);
  });

  it('refuses a bad body naming the field, an unknown id with 404, and full=yes with 400', async () => {
    assertProblem(await auditor()('POST', '/audit/verifications', { mode: 'quick' }), 400, 'validation_failed', '#/mode');
    assertProblem(await auditor()('POST', '/audit/verifications', { mode: 'full', extra: 1 }), 400, 'validation_failed', '#/extra');
    assertProblem(await auditor()('POST', '/audit/verifications', '[1'), 400, 'malformed_json', '#');
    assertProblem(await auditor()('GET', '/audit/verifications/not-an-id'), 400, 'validation_failed', '#/id');
    const unknown = await auditor()('GET', '/audit/verifications/01890a5d-ac96-7d6b-8a4e-0b2a2c4f5e61');
    assertProblem(unknown, 404, 'verification_not_found', '');
    assertProblem(await auditor()('GET', '/audit/verify?full=yes'), 400, 'validation_failed', '#/full');
  });
});
