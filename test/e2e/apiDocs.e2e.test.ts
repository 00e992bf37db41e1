import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Ajv2020 from 'ajv/dist/2020';
import type { Browser } from 'playwright-core';
import { aTopology } from '../support/apiData';
import { aCreateRequest } from '../support/builders';
import { CHROMIUM, chromiumAvailable, launchChromium } from '../support/chromium';
import { apiClient, startE2EEnvironment, type ApiCall, type E2EEnvironment } from '../support/localHost';

let env: E2EEnvironment;
const call: ApiCall = (...args) => apiClient(env.baseUrl, env.keys.all)(...args);

describe('GET /api/openapi.json and /api/docs over the local host', () => {
  before(async () => {
    env = await startE2EEnvironment({ loadDemoTopology: false });
  });
  after(async () => {
    await env?.stop();
  });

  it('serves the document anonymously, and its response schemas describe real answers', async () => {
    const response = await fetch(`${env.baseUrl}/openapi.json`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const document = (await response.json()) as { openapi: string; paths: Record<string, unknown> };
    assert.equal(document.openapi, '3.1.1');

    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    ajv.addSchema(document, 'openapi');
    const conforms = (schema: string, value: unknown) => {
      const check = ajv.compile({ $ref: `openapi#/components/schemas/${schema}` });
      assert.equal(check(value), true, `${schema}: ${ajv.errorsText(check.errors)} in ${JSON.stringify(value)}`);
    };
    const topology = await aTopology(call, { pools: 1 });
    const submitted = await call(
      'POST',
      '/change-requests',
      aCreateRequest({ sipAddress: topology.address('docs'), poolFqdn: topology.pool(0) }),
    );
    assert.equal(submitted.status, 202);
    conforms('ChangeRequest', submitted.body);
    conforms('ChangeRequest', (await call('GET', `/change-requests/${submitted.body.id}`)).body);
    conforms('EndpointPage', (await call('GET', '/endpoints?limit=5')).body);
    conforms('Topology', (await call('GET', '/topology')).body);
    conforms('AuditRecordPage', (await call('GET', '/audit?limit=5')).body);
    conforms('VerificationReport', (await call('GET', '/audit/verify')).body);
    conforms('JwkSet', (await call('GET', '/audit/signing-keys')).body);
    conforms('AuditTimeline', (await call('GET', '/audit/timeline?timeZone=Europe/Berlin')).body);
    const refused = await call('POST', '/change-requests', { operation: 'update' });
    assert.equal(refused.status, 400);
    conforms('Problem', refused.body);
  });

  it("states each route's roles as the app enforces them: 401 without a key, 403 with only the other roles", async () => {
    const document = (await (await fetch(`${env.baseUrl}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { 'x-required-roles': string[] }>>;
    };
    const roles = ['submitter', 'operator', 'auditor', 'reader'] as const;
    // A value for each path parameter; authorization comes before any parameter is read.
    const concrete = (template: string) =>
      template.replace(/\{(\w+)\}/g, (_m, name: string) =>
        name === 'id'
          ? '7f0c8f5e-2d7a-4c55-9a31-0c6d3b9f1e42'
          : name === 'asset'
            ? 'docs.js'
            : name === 'code'
              ? 'validation_failed'
              : 'x.contoso.com',
      );
    // Status and problem code only: some routes answer HTML or scripts.
    const send = async (method: string, path: string, key?: string) => {
      const response = await fetch(`${env.baseUrl}${path}`, {
        method: method.toUpperCase(),
        headers: key ? { authorization: `Bearer ${key}` } : {},
      });
      const text = await response.text();
      const code = /problem\+json/.test(response.headers.get('content-type') ?? '') ? (JSON.parse(text) as { code: string }).code : null;
      return { status: response.status, code };
    };
    let checked = 0;
    for (const [template, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const path = concrete(template);
        const anonymous = await send(method, path);
        const needed = operation['x-required-roles'];
        // Routes of the shared contract that other branches register answer 404 or 405 here (the integration test
        // openApiDocument.test.ts holds the document and the registrations equal otherwise).
        if ((anonymous.status === 404 && anonymous.code === 'route_not_found') || anonymous.status === 405) continue;
        checked += 1;
        if (needed.length === 0) {
          assert.ok(anonymous.status < 400, `${method} ${template} is documented as anonymous but answers ${anonymous.status}`);
          continue;
        }
        assert.equal(anonymous.status, 401, `${method} ${template} without a key`);
        for (const role of roles.filter((r) => !needed.includes(r))) {
          const refused = await send(method, path, env.keys[role]);
          assert.equal(refused.status, 403, `${method} ${template} as ${role} (documented: ${needed.join(', ')})`);
        }
      }
    }
    assert.ok(checked >= 19, `checked ${checked} operations: every route registered here`);
  });

  it('serves only the allow-listed assets: any other name is 404', async () => {
    const css = await fetch(`${env.baseUrl}/docs/swagger-ui.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
    for (const name of ['package.json', '..%2Fpackage.json', 'index.html', 'swagger-ui-bundle.js.map', 'constructor', '__proto__']) {
      const response = await fetch(`${env.baseUrl}/docs/${name}`);
      assert.equal(response.status, 404, name);
      assert.equal(((await response.json()) as { code: string }).code, 'asset_not_found', name);
    }
  });

  describe('the reference page in headless Chromium', { skip: chromiumAvailable ? false : `${CHROMIUM} is not installed` }, () => {
    let browser: Browser;
    before(async () => {
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
    });

    it('renders every operation, with no console error and no request leaving loopback', async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      const requested: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
      page.on('request', (request) => requested.push(request.url()));

      const response = await page.goto(`${env.baseUrl}/docs`);
      assert.equal(response?.status(), 200);
      assert.match(response?.headers()['content-security-policy'] ?? '', /script-src 'self';/);
      await page.getByText('Submit a change request (New- or Remove-CsPersistentChatEndpoint)').waitFor();

      const operations = await page.locator('.opblock-summary').allTextContents();
      const squeezed = operations.map((text) => text.replace(/\s+/g, ' '));
      for (const expected of ['POST/change-requests', 'GET/endpoints/{identity}', 'DELETE/topology/pools/{fqdn}', 'GET/audit/verify'])
        assert.ok(
          squeezed.some((text) => text.replace(/\s/g, '').includes(expected.replace(/\s/g, ''))),
          `${expected} in ${squeezed.join(' | ')}`,
        );
      // Opening an operation shows its parameters and responses (rendered from the document's schemas).
      await page.locator('#operations-Change_requests-submitChangeRequest .opblock-summary').click();
      await page.getByText('Idempotency-Key').first().waitFor();
      assert.ok(await page.getByText('idempotency_key_reused').first().isVisible());

      // With a trailing slash (which the host accepts) the page loads the same files.
      const slashed = await browser.newPage();
      slashed.on('pageerror', (error) => problems.push(`pageerror (docs/): ${error.message}`));
      slashed.on('console', (message) => {
        if (message.type() === 'error') problems.push(`error (docs/): ${message.text()}`);
      });
      await slashed.goto(`${env.baseUrl}/docs/`);
      await slashed.getByText('Submit a change request (New- or Remove-CsPersistentChatEndpoint)').waitFor();
      await slashed.close();

      assert.deepEqual(problems, []);
      const origin = new URL(env.baseUrl).origin;
      assert.deepEqual(
        requested.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('data:')),
        [],
      );
      assert.ok(requested.includes(`${origin}/api/openapi.json`), requested.join(', '));
      await page.close();
    });
  });
});
