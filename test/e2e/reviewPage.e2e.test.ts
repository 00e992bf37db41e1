import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { AuditAction, appendToChain, type AuditDraft, type AuditOutcome } from '../../shared/domain/audit';
import { FailureCode, RejectionCode } from '../../shared/domain/codes';
import { aCorrelationId, aTopology, aUniqueDomain, auditFor, auditUnder, pathOf, submitAndSettle } from '../support/apiData';
import { aCreateRequest } from '../support/builders';
import { CHROMIUM, chromiumAvailable, launchChromium } from '../support/chromium';
import { apiClient, startE2EEnvironment, type ApiCall, type E2EEnvironment } from '../support/localHost';
import { generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { auditCheckpointTimer } from '../../shared/entrypoints/timers';

/**
 * The review page in headless Chromium (Debian's, at /usr/bin/chromium; .ci/run installs it).
 * Without Chromium the suite is skipped with a note, unless REQUIRE_CHROMIUM is set (as in CI).
 */

let env: E2EEnvironment;
let browser: Browser;
/** The pages a test opened, closed after it. */
const pages: Page[] = [];

const call: ApiCall = (...args) => apiClient(env.baseUrl, env.keys.all)(...args);

/**
 * The reader's zone for every page: New York, five hours behind UTC in January, so a record at
 * 03:30 UTC falls on the previous local day and a page counting UTC days would be caught.
 */
const READER = { timezoneId: 'America/New_York', locale: 'en-US' };

/** A new page of 1280 x 800, in the reader's zone and locale. */
async function newPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, ...READER });
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

/** How the page shows a time to the New York reader (en-US, 24-hour clock, the zone's short name). */
const shownAs = (iso: string): string =>
  new Intl.DateTimeFormat('en-US', {
    timeZone: READER.timezoneId,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).format(new Date(iso));

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

/**
 * Appends audit records stamped `time` straight to the log, one commit, as the service commits
 * them (chained, indexed): the way to place records on chosen days. `time` must not be before the
 * log's head, since the log's times never run backwards.
 */
async function appendRecordsAt(time: string, drafts: AuditDraft[]): Promise<void> {
  const snapshot = await env.dependencies.directory.snapshot({});
  const { records, head } = appendToChain(snapshot.head, drafts, new Date(time));
  assert.equal(records.at(-1)?.time, time, 'the log head is not later than the chosen time');
  await env.dependencies.directory.commit({
    expectedVersion: snapshot.version,
    head,
    writes: [],
    changeRequests: [],
    storedStatuses: new Map(),
    audit: records,
    outbox: [],
  });
}

/** A record about `subject` that ended with `outcome`. */
function aDraft(subject: string, outcome: AuditOutcome): AuditDraft {
  return {
    id: crypto.randomUUID(),
    actor: 'timeline-test',
    action: outcome.status === 'applied' ? AuditAction.endpointCreated : AuditAction.endpointCreateRejected,
    subject,
    changeRequestId: null,
    correlationId: aCorrelationId(),
    causationId: null,
    outcome,
    before: null,
    after: null,
  };
}

const APPLIED: AuditOutcome = { status: 'applied' };
const REJECTED: AuditOutcome = { status: 'rejected', code: RejectionCode.sipAddressHeldByEndpoint, message: 'held' };
const FAILED: AuditOutcome = { status: 'failed', code: FailureCode.processingFailed, message: 'failed on every delivery' };

/** Searches the page for one subject and waits for `count` records. */
async function searchSubject(page: Page, subject: string, count: number): Promise<void> {
  await page.fill('input[name=subject]', subject);
  await page.click('#search');
  await page.waitForFunction((expected) => document.getElementById('status')?.textContent === expected, `${count} records`);
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

    it("opens a migration's record, by keyboard, to show the directory user it replaced beside the endpoint, every value as text", async () => {
      const topology = await aTopology(call, { pools: 1 });
      const address = topology.address('ocschat');
      const userName = '<img src=x onerror="window.__pwned=1">Group Chat';
      const endpointName = '<script>window.__pwned=2</script>';
      assert.equal((await call('PUT', `/topology/users/${pathOf(address)}`, { displayName: userName })).status, 201);
      const migrated = await submitAndSettle(
        call,
        aCreateRequest({ sipAddress: address, poolFqdn: topology.pool(0), replaceLegacyUser: true, displayName: endpointName }),
      );
      assert.equal(migrated.status, 'applied');
      const [created] = await auditFor(call, address);
      assert.deepEqual([created?.action, created?.before.kind, created?.after.kind], ['endpoint.created', 'user', 'endpoint']);
      const page = await openReviewPage();
      await searchSubject(page, address, 2);

      const toggle = page.locator(`#records tr[data-sequence="${created?.sequence}"] button.record`);
      await toggle.focus();
      await page.keyboard.press('Enter');
      const pane = page.locator(`#pane-${created?.sequence}`);
      await pane.waitFor();
      assert.deepEqual(
        [await toggle.getAttribute('aria-expanded'), await toggle.getAttribute('aria-controls')],
        ['true', `pane-${created?.sequence}`],
      );
      const side = (name: string) =>
        pane.locator(`section.${name}`).evaluate((section) => ({
          title: section.querySelector('h3')?.textContent,
          fields: [...section.querySelectorAll('dt')].map((dt) => [
            dt.firstChild?.textContent,
            dt.nextElementSibling?.textContent,
            dt.classList.contains('changed') ? 'changed' : 'same',
          ]),
          utc: [...section.querySelectorAll('time')].map((time) => [time.dateTime, time.title]),
        }));
      const local = (iso: string) => shownAs(iso);
      const user = created?.before;
      const endpoint = created?.after;
      assert.deepEqual(await side('before'), {
        title: 'Before: directory user (replaced by the endpoint)',
        fields: [
          ['kind', 'user', 'changed'],
          ['sipAddress', address, 'same'],
          ['displayName', userName, 'changed'],
          ['addedAt', local(user.addedAt), 'changed'],
        ],
        utc: [[user.addedAt, user.addedAt]],
      });
      assert.deepEqual(await side('after'), {
        title: 'After: endpoint',
        fields: [
          ['kind', 'endpoint', 'changed'],
          ['sipAddress', address, 'same'],
          ['poolFqdn', topology.pool(0), 'changed'],
          ['displayName', endpointName, 'changed'],
          ['isDefault', 'false', 'changed'],
          ['createdAt', local(endpoint.createdAt), 'changed'],
          ['changeRequestId', migrated.id, 'changed'],
        ],
        utc: [[endpoint.createdAt, endpoint.createdAt]],
      });
      // The hostile names stayed text: no element was made from them and no script of theirs ran.
      assert.deepEqual(
        [await page.locator('#records img, #records script').count(), await page.evaluate(() => (window as any).__pwned)],
        [0, undefined],
      );

      await page.keyboard.press('Enter');
      await pane.waitFor({ state: 'detached' });
      assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    });

    it('says when no checkpoint is signed yet (no signing key here), and builds the kit from the time window only', async () => {
      const page = await openReviewPage();
      await page.waitForFunction(() => document.getElementById('checkpoint-summary')?.textContent !== 'Loading…');
      assert.equal(await page.locator('#checkpoint-summary').textContent(), 'No checkpoint has been signed yet.');

      // New York local time: 22:00 on 14 January is 03:00 UTC on the 15th.
      await page.fill('input[name=since]', '2031-01-14T22:00:00');
      await page.fill('input[name=subject]', 'sip:nobody@contoso.com');
      await page.click('#search');
      await page.waitForFunction(() => document.getElementById('status')?.textContent === '0 records');
      assert.deepEqual(
        [
          await page.locator('#kit-audit').getAttribute('href'),
          await page.locator('#ndjson').getAttribute('href'),
          await page.locator('#kit-checkpoints').getAttribute('href'),
          await page.locator('#kit-keys').getAttribute('href'),
          await page.locator('#kit-command').textContent(),
        ],
        [
          '/api/audit?since=2031-01-15T03%3A00%3A00.000Z&format=ndjson',
          '/api/audit?subject=sip%3Anobody%40contoso.com&since=2031-01-15T03%3A00%3A00.000Z&format=ndjson',
          '/api/audit/checkpoints?format=ndjson',
          '/api/audit/signing-keys',
          'pchat audit verify --file audit.ndjson --checkpoints checkpoints.ndjson --keys signing-keys.json',
        ],
      );
    });

    it("shows times in the reader's zone with UTC on hover, and the timeline counts per local day", async () => {
      const subject = `sip:timeline@${aUniqueDomain()}`;
      // 03:30 UTC on 15 January is 22:30 on the 14th in New York; 16:00 UTC is 11:00 on the 15th.
      // Counted by UTC day, all five would fall on the 15th.
      await appendRecordsAt('2031-01-15T03:30:00.000Z', [aDraft(subject, APPLIED), aDraft(subject, APPLIED), aDraft(subject, REJECTED)]);
      await appendRecordsAt('2031-01-15T16:00:00.000Z', [aDraft(subject, APPLIED), aDraft(subject, FAILED)]);
      const page = await openReviewPage();
      await searchSubject(page, subject, 5);
      await page.waitForFunction(() => document.querySelectorAll('#timeline-rows tr').length > 0);

      assert.equal(await page.locator('#zone').textContent(), 'America/New_York');
      assert.deepEqual(await column(page, 2), [...Array(2).fill('01/15/2031, 11:00:00 EST'), ...Array(3).fill('01/14/2031, 22:30:00 EST')]);
      assert.deepEqual(
        await page
          .locator('#records td:nth-child(2) time')
          .evaluateAll((times) => times.map((t) => [(t as HTMLTimeElement).dateTime, (t as HTMLElement).title])),
        [...Array(2).fill(Array(2).fill('2031-01-15T16:00:00.000Z')), ...Array(3).fill(Array(2).fill('2031-01-15T03:30:00.000Z'))],
      );

      const timelineTable = () =>
        page
          .locator('#timeline-rows tr')
          .evaluateAll((rows) => rows.map((row) => [...row.querySelectorAll('td')].map((td) => td.textContent)));
      assert.deepEqual(await timelineTable(), [
        ['2031-01-14', '2', '1', '0'],
        ['2031-01-15', '1', '0', '1'],
      ]);
      assert.deepEqual(await page.locator('#timeline-chart g > title').allTextContents(), [
        '2031-01-14: 2 applied, 1 rejected, 0 failed',
        '2031-01-15: 1 applied, 0 rejected, 1 failed',
      ]);
      assert.deepEqual(
        await page
          .locator('#timeline-chart g')
          .evaluateAll((bars) => bars.map((g) => [...g.querySelectorAll('rect')].map((r) => r.getAttribute('class')))),
        [
          ['applied', 'rejected'],
          ['applied', 'failed'],
        ],
      );
      assert.equal(await page.locator('#timeline-note').textContent(), '5 records, days in America/New_York.');

      // The timeline follows the filters.
      await page.selectOption('select[name=outcome]', 'failed');
      await page.click('#search');
      await page.waitForFunction(() => document.querySelectorAll('#timeline-rows tr').length === 1);
      assert.deepEqual(await timelineTable(), [['2031-01-15', '0', '0', '1']]);
    });

    it('shows the latest checkpoint with its witnesses, and the kit downloads what pchat audit verify needs', async () => {
      // Its own deployment, with a signing key, so a checkpoint exists (the suite's has none).
      const signingKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const signed = await startE2EEnvironment({ loadDemoTopology: false, settings: { AUDIT_SIGNING_KEY: signingKey } });
      try {
        const signedCall: ApiCall = (...args) => apiClient(signed.baseUrl, signed.keys.all)(...args);
        const topology = await aTopology(signedCall);
        // The checkpoint timer's work: sign, publish the event, copy to the blob witness.
        const checkpoint = await auditCheckpointTimer(signed.dependencies);
        assert.ok(checkpoint, 'a checkpoint was signed');
        const listed = (await signedCall('GET', '/audit/checkpoints?limit=1')).body.items[0];
        assert.deepEqual([listed.sequence, listed.witnesses], [checkpoint.sequence, { event: 'published', blob: 'written' }]);

        const page = await newPage();
        await page.goto(`${signed.baseUrl}/review`);
        await enterKey(page, signed.keys.auditor);
        await page.waitForFunction(() => /^Checkpoint at record/.test(document.getElementById('checkpoint-summary')?.textContent ?? ''));
        assert.equal(
          await page.locator('#checkpoint-summary').textContent(),
          `Checkpoint at record ${checkpoint.sequence}, signed ${shownAs(checkpoint.time)} with key ${checkpoint.keyId} (EdDSA); witnesses: event published, blob copy written.`,
        );
        assert.equal(await page.locator('#checkpoint-summary time').getAttribute('title'), checkpoint.time);

        // Each kit link downloads its file under the name the command line uses.
        const files: Record<string, string> = {};
        for (const id of ['kit-audit', 'kit-checkpoints', 'kit-keys']) {
          const [download] = await Promise.all([page.waitForEvent('download'), page.click(`#${id}`)]);
          files[download.suggestedFilename()] = await readFile(await download.path(), 'utf8');
        }
        assert.deepEqual(Object.keys(files).sort(), ['audit.ndjson', 'checkpoints.ndjson', 'signing-keys.json']);
        const records = (files['audit.ndjson'] as string)
          .trimEnd()
          .split('\n')
          .map((line) => JSON.parse(line));
        assert.ok(records.some((r) => r.subject === `sip-domain:${topology.domain}`));
        assert.equal(JSON.parse((files['checkpoints.ndjson'] as string).split('\n')[0] as string).sequence, checkpoint.sequence);
        assert.deepEqual(
          JSON.parse(files['signing-keys.json'] as string).keys.map((k: any) => k.kid),
          [checkpoint.keyId],
        );
      } finally {
        await signed.stop();
      }
    });
  },
);
