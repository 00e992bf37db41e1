import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { aCorrelationId, aTopology, auditUnder, submitAndSettle } from '../support/apiData';
import { aCreateRequest } from '../support/builders';
import { CHROMIUM, chromiumAvailable, launchChromium } from '../support/chromium';
import { apiClient, startE2EEnvironment, type ApiCall, type E2EEnvironment } from '../support/localHost';

/**
 * The review page in headless Chromium (Debian's, at /usr/bin/chromium; .ci/run installs it).
 * Without Chromium the suite is skipped with a note, unless REQUIRE_CHROMIUM is set (as in CI).
 */

let env: E2EEnvironment;
let browser: Browser;
/** The pages a test opened, closed after it. */
const pages: Page[] = [];

const call: ApiCall = (...args) => apiClient(env.baseUrl, env.keys.all)(...args);

/** A new page of 1280 x 800. */
async function newPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  pages.push(page);
  return page;
}

/** Enters an API key in the page's key form (shown when the API answered 401). */
async function enterKey(page: Page, key: string): Promise<void> {
  await page.locator('#key-form').waitFor({ state: 'visible' });
  await page.fill('#key-input', key);
  await page.click('#key-submit');
}

/** A new page with the review page open as the auditor (it shows the newest records on load). */
async function openReviewPage(): Promise<Page> {
  const page = await newPage();
  await page.goto(`${env.baseUrl}/review`);
  await enterKey(page, env.keys.auditor);
  await page.waitForFunction(() => /records$/.test(document.getElementById('status')?.textContent ?? ''));
  return page;
}

const column = (page: Page, index: number) => page.locator(`#records tr td:nth-child(${index})`).allTextContents();

/**
 * A test's own records: an applied create of sip:review@<its domain> by its own actor under its own
 * correlation id (the ticket), then a rejected create of the same address.
 */
async function reviewRecords() {
  const topology = await aTopology(call, { pools: 2 });
  const subject = topology.address('review');
  // The actor is whoever the key names: the submitter here.
  const actor = env.principals.submitter;
  const ticket = aCorrelationId();
  const applied = await submitAndSettle(call, aCreateRequest({ sipAddress: subject, poolFqdn: topology.pool(0) }), {
    'x-correlation-id': ticket,
    authorization: `Bearer ${env.keys.submitter}`,
  });
  const rejected = await submitAndSettle(call, aCreateRequest({ sipAddress: subject, poolFqdn: topology.pool(1) }));
  assert.deepEqual([applied.status, rejected.status], ['applied', 'rejected']);
  return { subject, actor, ticket, applied, rejected };
}

describe(
  'the audit review page in headless Chromium',
  { skip: chromiumAvailable ? false : `${CHROMIUM} is not installed (apt-get install chromium)` },
  () => {
    before(async () => {
      env = await startE2EEnvironment({ loadDemoTopology: false });
      browser = await launchChromium();
    });

    afterEach(async () => {
      for (const page of pages.splice(0)) await page.close();
    });
    after(async () => {
      await browser?.close();
      await env?.stop();
    });

    it('asks for an API key when the API answers 401, then works with the auditor key, kept for the session', async () => {
      await reviewRecords();
      const page = await newPage();
      await page.goto(`${env.baseUrl}/review`);

      await page.locator('#key-form').waitFor({ state: 'visible' });
      assert.deepEqual(
        [await page.locator('#key-message').textContent(), await page.locator('#status').textContent(), await column(page, 1)],
        ['The API needs an auditor API key.', 'Loading…', []],
      );
      await enterKey(page, 'not-a-key-of-this-service-at-all-00000000');
      await page.waitForFunction(() => document.getElementById('key-message')?.textContent === 'That key was refused; enter another.');
      await enterKey(page, env.keys.auditor);
      await page.waitForFunction(() => /records$/.test(document.getElementById('status')?.textContent ?? ''));

      assert.equal(await page.locator('#key-form').isVisible(), false);
      assert.ok((await column(page, 1)).length > 0);
      assert.equal(await page.evaluate(() => sessionStorage.getItem('pchat-api-key')), env.keys.auditor);
      assert.equal(await page.evaluate(() => localStorage.length), 0, 'the key is kept for the browser session only');
      // A reload in the same session asks for nothing.
      await page.reload();
      await page.waitForFunction(() => /records$/.test(document.getElementById('status')?.textContent ?? ''));
      assert.equal(await page.locator('#key-form').isVisible(), false);
    });

    it('shows the 403 message when the key lacks the auditor role', async () => {
      const page = await newPage();
      await page.goto(`${env.baseUrl}/review`);

      await enterKey(page, env.keys.reader);
      await page.waitForFunction(() => (document.getElementById('status')?.textContent ?? '').startsWith('Error'));

      const refusal = "this operation needs the auditor role; the caller's roles: reader";
      assert.equal(await page.locator('#status').textContent(), `Error: ${refusal}`);
      assert.deepEqual([await page.locator('#key-message').textContent(), await column(page, 1)], [refusal, []]);
    });

    it('renders the log newest first, and the screenshot shows the records', async () => {
      const { subject, rejected } = await reviewRecords();
      const blank = await (await newPage()).screenshot();

      const page = await openReviewPage();

      // The first page of the whole log, as GET /audit gives it: this test's records are the newest.
      const newest = (await call('GET', '/audit?limit=50')).body.items;
      assert.equal(newest[0].changeRequestId, rejected.id);
      assert.deepEqual(
        (await column(page, 1)).map(Number),
        newest.map((r: any) => r.sequence),
      );
      assert.deepEqual(
        await column(page, 5),
        newest.map((r: any) => r.subject),
      );
      assert.equal(await page.locator('#status').textContent(), `${newest.length} records`);
      const shot = await page.screenshot({ fullPage: true });
      assert.equal(shot.subarray(1, 4).toString(), 'PNG');
      assert.ok(
        shot.length > blank.length * 2,
        `a page of records (${shot.length} bytes) is far more than a blank page (${blank.length} bytes)`,
      );
      assert.ok(await page.getByText(subject).first().isVisible());
    });

    it('filters by subject and outcome', async () => {
      const { subject, rejected } = await reviewRecords();
      const page = await openReviewPage();

      await page.fill('input[name=subject]', subject);
      await page.selectOption('select[name=outcome]', 'rejected');
      await page.click('#search');
      await page.waitForFunction(() => document.getElementById('status')?.textContent === '1 records');

      assert.deepEqual(
        [await column(page, 5), await column(page, 6), await column(page, 7)],
        [[subject], ['rejected (sip_address_held_by_endpoint)'], [rejected.id]],
      );
    });

    it('follows a correlation id through its records, and opens the change request with its outcome', async () => {
      const { actor, applied, ticket } = await reviewRecords();
      const page = await openReviewPage();

      await page.locator('#records button', { hasText: ticket }).click();
      await page.waitForFunction(
        (expected) =>
          (document.querySelector('input[name=correlation]') as HTMLInputElement).value === expected &&
          document.getElementById('status')?.textContent === '1 records',
        ticket,
      );
      assert.deepEqual([await column(page, 8), await column(page, 3), await column(page, 7)], [[ticket], [actor], [applied.id]]);

      await page.locator('#records button', { hasText: applied.id }).click();
      await page.waitForFunction(() => (document.getElementById('details')?.textContent ?? '').includes('applied'));
      assert.equal((await page.locator('#details').textContent())?.split('\n')[0], `Change request ${applied.id}: applied`);
    });

    it('runs the verifier and shows the verdict', async () => {
      await reviewRecords();
      const page = await openReviewPage();
      const head = (await call('GET', '/audit?limit=1')).body.items[0].sequence;

      await page.click('#verify');
      await page.waitForFunction(() => /^(Intact|Broken)/.test(document.getElementById('verdict')?.textContent ?? ''));

      assert.equal(await page.locator('#verdict').textContent(), `Intact: ${head} records, head ${head}, 0 signed checkpoints`);
    });

    it('offers the filtered result as NDJSON and CSV exports', async () => {
      const { applied, ticket } = await reviewRecords();
      const page = await openReviewPage();

      await page.fill('input[name=correlation]', ticket);
      await page.click('#search');
      await page.waitForFunction(() => document.getElementById('status')?.textContent === '1 records');

      const [record] = await auditUnder(call, ticket);
      assert.equal(record?.changeRequestId, applied.id);
      const csvHref = await page.locator('#csv').getAttribute('href');
      const ndjsonHref = await page.locator('#ndjson').getAttribute('href');
      assert.deepEqual(
        [csvHref, ndjsonHref],
        [`/api/audit?correlation=${ticket}&format=csv`, `/api/audit?correlation=${ticket}&format=ndjson`],
      );
      const asAuditor = { headers: { authorization: `Bearer ${env.keys.auditor}` } };
      const csv = await page.request.get(new URL(csvHref as string, env.baseUrl).toString(), asAuditor);
      assert.equal(csv.headers()['content-type'], 'text/csv; charset=utf-8');
      const rows = (await csv.text()).trimEnd().split('\r\n');
      assert.deepEqual(
        rows.map((row) => row.split(',')[0]),
        ['sequence', String(record?.sequence)],
      );
      const ndjson = await page.request.get(new URL(ndjsonHref as string, env.baseUrl).toString(), asAuditor);
      assert.deepEqual(
        (await ndjson.text())
          .trimEnd()
          .split('\n')
          .map((line) => JSON.parse(line)),
        [record],
      );
    });
  },
);
