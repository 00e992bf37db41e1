import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser, type Page } from 'playwright-core';
import { apiClient, settled, startE2EEnvironment, type E2EEnvironment } from '../support/localHost';

/**
 * The review page in headless Chromium (Debian's, at /usr/bin/chromium; .ci/run installs it).
 * Without Chromium the suite is skipped with a note, unless REQUIRE_CHROMIUM is set (as in CI).
 */
const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.REQUIRE_CHROMIUM) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);

let env: E2EEnvironment;
let browser: Browser;
let page: Page;

const column = (index: number) => page.locator(`#records tr td:nth-child(${index})`).allTextContents();

describe(
  'the audit review page in headless Chromium',
  { skip: available ? false : `${CHROMIUM} is not installed (apt-get install chromium)` },
  () => {
    let created: Record<string, any>;

    before(async () => {
      env = await startE2EEnvironment();
      const call = apiClient(env.baseUrl);
      const submit = async (body: Record<string, unknown>, headers: Record<string, string> = {}) => {
        const accepted = await call('POST', '/change-requests', body, headers);
        return settled(env.baseUrl, accepted.headers.get('location') as string);
      };
      created = await submit(
        { operation: 'create', sipAddress: 'sip:review@contoso.com', poolFqdn: 'pcpool.contoso.com' },
        { 'x-correlation-id': 'ticket-42', 'x-ms-client-principal-name': 'auditor-demo' },
      );
      await submit(
        { operation: 'create', sipAddress: 'sip:review@contoso.com', poolFqdn: 'pcpool2.contoso.com' },
        { 'x-correlation-id': 'ticket-43' },
      );
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    });

    after(async () => {
      await browser?.close();
      await env?.stop();
    });

    it('renders the log newest first, and the screenshot shows the records', async () => {
      const blank = await (await browser.newPage({ viewport: { width: 1280, height: 800 } })).screenshot();
      await page.goto(`${env.baseUrl}/review`);
      await page.waitForFunction(() => document.querySelectorAll('#records tr').length > 0);

      const sequences = (await column(1)).map(Number);
      assert.ok(sequences.length >= 6, `${sequences.length} rows`);
      assert.deepEqual(
        sequences,
        [...sequences].sort((a, b) => b - a),
      );
      assert.match((await page.locator('#status').textContent()) ?? '', /records$/);
      const shot = await page.screenshot({ fullPage: true });
      assert.equal(shot.subarray(1, 4).toString(), 'PNG');
      assert.ok(
        shot.length > blank.length * 2,
        `a page of records (${shot.length} bytes) is far more than a blank page (${blank.length} bytes)`,
      );
      assert.ok(await page.getByText('sip:review@contoso.com').first().isVisible());
    });

    it('filters by subject and outcome', async () => {
      await page.fill('input[name=subject]', 'sip:review@contoso.com');
      await page.selectOption('select[name=outcome]', 'rejected');
      await page.click('#search');
      await page.waitForFunction(() => document.querySelectorAll('#records tr').length === 1);
      assert.deepEqual(await column(5), ['sip:review@contoso.com']);
      assert.deepEqual(await column(6), ['rejected (sip_address_held_by_endpoint)']);
    });

    it('follows a correlation id through its records, and opens the change request with its outcome', async () => {
      await page.click('#clear');
      await page.waitForFunction(() => document.querySelectorAll('#records tr').length > 1);
      await page.locator('#records button', { hasText: 'ticket-42' }).first().click();
      await page.waitForFunction(
        () =>
          (document.querySelector('input[name=correlation]') as HTMLInputElement).value === 'ticket-42' &&
          document.querySelectorAll('#records tr').length === 1,
      );
      assert.deepEqual(await column(8), ['ticket-42']);
      assert.deepEqual(await column(3), ['auditor-demo']);

      await page.locator('#records button', { hasText: created.id }).click();
      await page.waitForFunction(() => (document.getElementById('details')?.textContent ?? '').includes('applied'));
      assert.match((await page.locator('#details').textContent()) ?? '', new RegExp(`Change request ${created.id}: applied`));
    });

    it('runs the verifier and shows the verdict', async () => {
      await page.click('#verify');
      await page.waitForFunction(() => /^(Intact|Broken)/.test(document.getElementById('verdict')?.textContent ?? ''));
      assert.match((await page.locator('#verdict').textContent()) ?? '', /^Intact: \d+ records, head \d+, 0 signed checkpoints$/);
    });

    it('offers the filtered result as NDJSON and CSV exports', async () => {
      const href = await page.locator('#csv').getAttribute('href');
      assert.match(href ?? '', /\/api\/audit\?correlation=ticket-42&format=csv$/);
      const response = await page.request.get(new URL(href as string, env.baseUrl).toString());
      assert.equal(response.headers()['content-type'], 'text/csv; charset=utf-8');
      assert.equal((await response.text()).trim().split('\r\n').length, 2);
    });
  },
);
