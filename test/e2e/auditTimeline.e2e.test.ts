import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aTopology, submitAndSettle } from '../support/apiData';
import { aCreateRequest } from '../support/builders';
import { apiClient, startE2EEnvironment, type ApiCall, type E2EEnvironment } from '../support/localHost';

/** GET /api/audit/timeline over the local host: the review page's counts per day of the reader's zone. */

let env: E2EEnvironment;
const call: ApiCall = (...args) => apiClient(env.baseUrl, env.keys.auditor)(...args);
const submit: ApiCall = (...args) => apiClient(env.baseUrl, env.keys.all)(...args);

/** Today's date (YYYY-MM-DD) in `timeZone`, at `time`. */
const dayIn = (timeZone: string, time: string) =>
  new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(time));

describe('GET /api/audit/timeline', () => {
  before(async () => {
    env = await startE2EEnvironment({ loadDemoTopology: false });
  });
  after(async () => {
    await env?.stop();
  });

  it("counts the filters' records per day of the zone asked for", async () => {
    const topology = await aTopology(submit, { pools: 2 });
    const subject = topology.address('timeline');
    assert.equal((await submitAndSettle(submit, aCreateRequest({ sipAddress: subject, poolFqdn: topology.pool(0) }))).status, 'applied');
    assert.equal((await submitAndSettle(submit, aCreateRequest({ sipAddress: subject, poolFqdn: topology.pool(1) }))).status, 'rejected');
    const [newest] = (await call('GET', `/audit?subject=${encodeURIComponent(subject)}&limit=1`)).body.items;

    const answer = await call('GET', `/audit/timeline?subject=${encodeURIComponent(subject)}&timeZone=Asia/Kolkata`);

    assert.equal(answer.status, 200);
    assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
    // Both records were made within seconds; a day boundary between them would split them in two.
    assert.deepEqual(
      answer.body.days.reduce((sum: number, d: any) => sum + d.applied + d.rejected + d.failed, 0),
      2,
    );
    assert.deepEqual(answer.body.days.at(-1).day, dayIn('Asia/Kolkata', newest.time));
    assert.deepEqual([answer.body.timeZone, answer.body.recordsCounted, answer.body.complete], ['Asia/Kolkata', 2, true]);
    const outcome = await call('GET', `/audit/timeline?subject=${encodeURIComponent(subject)}&outcome=rejected`);
    assert.deepEqual(outcome.body, {
      timeZone: 'UTC',
      days: [{ day: dayIn('UTC', newest.time), applied: 0, rejected: 1, failed: 0 }],
      recordsCounted: 1,
      complete: true,
      countedSince: newest.time,
    });
  });

  it('refuses a time zone it does not know, a path-like or over-long one, a lone surrogate, and paging parameters', async () => {
    const refusals = [];
    // Percent-encoded as sent; %ED%A0%80 is a lone surrogate's UTF-8 form, which is not valid UTF-8.
    for (const timeZone of ['Mars%2FOlympus_Mons', '..%2F..%2Fetc%2Fpasswd', 'A'.repeat(65), 'UTC%ED%A0%80', '']) {
      const answer = await call('GET', `/audit/timeline?timeZone=${timeZone}`);
      refusals.push([answer.status, answer.body.code, answer.body.errors?.map((e: any) => e.pointer)]);
    }
    assert.deepEqual(refusals, [
      [400, 'validation_failed', ['#/timeZone']],
      [400, 'validation_failed', ['#/timeZone']],
      [400, 'validation_failed', ['#/timeZone']],
      [400, 'validation_failed', ['#/timeZone']],
      [400, 'validation_failed', ['#/timeZone']],
    ]);
    const unknown = await call('GET', '/audit/timeline?timeZone=Mars/Base');
    assert.equal(unknown.body.errors[0].detail, 'timeZone must be a time zone this service knows (an IANA name such as America/New_York)');
    const pathLike = await call('GET', '/audit/timeline?timeZone=..%2Fetc');
    assert.equal(pathLike.body.errors[0].detail, 'timeZone must be an IANA time zone name, e.g. Europe/Berlin or UTC');
    // The timeline is one answer: paging and export parameters are not part of it.
    const paged = await call('GET', '/audit/timeline?limit=5&format=ndjson');
    assert.deepEqual([paged.status, paged.body.errors.map((e: any) => e.pointer)], [400, ['#/limit', '#/format']]);
  });
});
