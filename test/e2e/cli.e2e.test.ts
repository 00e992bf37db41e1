import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { aTopology, pathOf, settledRequest, type Topology } from '../support/apiData';
import { uniqueLabel } from '../support/builders';
import { PCHAT, runScript, type ScriptRun } from '../support/scripts';
import { apiClient, startE2EEnvironment, type ApiCall, type E2EEnvironment } from '../support/localHost';

/**
 * The pchat command line, run as its users run it: the compiled bin in a child process, against a
 * real local host over HTTP with keys on. Each describe has one environment; each test its own data.
 *
 * Tests marked [parallel route] use routes built on other branches of issue 11 (list and cancel
 * change requests, an endpoint by display name): they pass once those are merged.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Runs pchat with `args`, as the holder of `key`, against `url` (the app's origin): pipes, never a terminal. */
function pchat(url: string, key: string | undefined, ...args: string[]): Promise<ScriptRun> {
  // Only what the command line reads: no PORT, PCHAT_* or proxy settings leak in from the test's own environment.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, PCHAT_URL: url };
  if (key !== undefined) env.PCHAT_API_KEY = key;
  return runScript(PCHAT, args, env);
}

/** The app's origin, as a user gives it (the base URL without /api). */
const originOf = (env: E2EEnvironment) => env.baseUrl.replace(/\/api$/, '');

/** The newest audit record's sequence number: unchanged means nothing was audited (so nothing changed). */
async function auditHead(call: ApiCall): Promise<number> {
  const { status, body } = await call('GET', '/audit?limit=1');
  assert.equal(status, 200);
  return body.items[0]?.sequence ?? 0;
}

describe('pchat against the demo topology (the source page, verbatim)', () => {
  let env: E2EEnvironment;
  let call: ApiCall;
  const as = (key: string, ...args: string[]) => pchat(originOf(env), key, ...args);
  const SOURCE_PAGE = [
    'New-CsPersistentChatEndpoint',
    '-SipAddress',
    'sip:persistentchat@contoso.com',
    '-PersistentChatPoolFqdn',
    'pcpool.contoso.com',
  ];

  before(async () => {
    env = await startE2EEnvironment({ loadDemoTopology: true });
    call = apiClient(env.baseUrl, env.keys.all);
  });
  after(async () => env?.stop());

  it('-WhatIf on the source page command predicts it is applied and changes nothing (no endpoint, no audit record)', async () => {
    const head = await auditHead(call);
    const run = await as(env.keys.submitter, ...SOURCE_PAGE, '-WhatIf');
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /What if: create the Persistent Chat endpoint sip:persistentchat@contoso\.com: would be applied\. Nothing was changed\./,
    );
    assert.equal((await call('GET', `/endpoints/${pathOf('sip:persistentchat@contoso.com')}`)).status, 404);
    assert.equal(await auditHead(call), head);
  });

  it('runs the source page command line verbatim: waits, prints the applied request, exit 0; piped, stderr stays empty', async () => {
    const run = await as(env.keys.submitter, ...SOURCE_PAGE);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '', 'no progress noise when piped');
    assert.match(run.stdout, /^Status\s+: applied$/m);
    const endpoint = await call('GET', `/endpoints/${pathOf('sip:persistentchat@contoso.com')}`);
    assert.equal(endpoint.status, 200);
    assert.equal(endpoint.body.poolFqdn, 'pcpool.contoso.com');

    // Again: the address is taken now, so the answer is no (exit 1) with the rejection code.
    const again = await as(env.keys.submitter, ...SOURCE_PAGE);
    assert.equal(again.code, 1);
    assert.match(again.stdout, /^Status\s+: rejected$/m);
    assert.match(again.stderr, /rejected: sip_address_held_by_endpoint/);
  });

  it('takes cmdlet and parameter names in any case, and -Identity by position', async () => {
    const named = await as(env.keys.reader, 'get-cspersistentchatendpoint', '-identity', 'sip:persistentchat@contoso.com', '--json');
    assert.equal(named.code, 0, named.stderr);
    assert.equal(JSON.parse(named.stdout).sipAddress, 'sip:persistentchat@contoso.com');
    const positional = await as(env.keys.reader, 'GET-CSPERSISTENTCHATENDPOINT', 'sip:persistentchat@contoso.com', '--json');
    assert.deepEqual(JSON.parse(positional.stdout), JSON.parse(named.stdout));
  });

  it('Get-CsPersistentChatEndpoint -Filter -PersistentChatPoolFqdn -ResultSize pages the list and prints the API page', async () => {
    const all = await as(env.keys.reader, 'Get-CsPersistentChatEndpoint', '-Filter', 'sip:*@contoso.com', '--json');
    assert.equal(all.code, 0, all.stderr);
    const addresses = JSON.parse(all.stdout).items.map((e: any) => e.sipAddress);
    assert.ok(addresses.includes('sip:persistentchat@contoso.com') && addresses.includes('sip:pcpool2@contoso.com'));

    const two = JSON.parse(
      (await as(env.keys.reader, 'Get-CsPersistentChatEndpoint', '-Filter', 'sip:*@contoso.com', '-ResultSize', '2', '--json')).stdout,
    );
    assert.equal(two.items.length, 2);
    assert.equal(typeof two.nextCursor, 'string');

    const pool = await as(env.keys.reader, 'Get-CsPersistentChatEndpoint', '-PersistentChatPoolFqdn', 'pcpool2.contoso.com');
    assert.equal(pool.code, 0, pool.stderr);
    assert.match(pool.stdout, /sip:pcpool2@contoso\.com/);
    assert.doesNotMatch(pool.stdout, /persistentchat@/);
  });

  it('Remove-CsPersistentChatEndpoint -WhatIf changes nothing; without it the endpoint is removed (exit 0)', async () => {
    const address = 'sip:persistentchat@contoso.com';
    const head = await auditHead(call);
    const whatIf = await as(env.keys.submitter, 'Remove-CsPersistentChatEndpoint', '-Identity', address, '-WhatIf');
    assert.equal(whatIf.code, 0, whatIf.stderr);
    assert.match(whatIf.stdout, /would be applied/);
    assert.equal((await call('GET', `/endpoints/${pathOf(address)}`)).status, 200);
    assert.equal(await auditHead(call), head);

    const removed = await as(env.keys.submitter, 'Remove-CsPersistentChatEndpoint', '-Identity', address);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal((await call('GET', `/endpoints/${pathOf(address)}`)).status, 404);
  });

  it('migrate replaces the Lync 2010 Group Chat user with an endpoint of the same address', async () => {
    const run = await as(
      env.keys.submitter,
      'migrate',
      '--sip-address',
      'sip:ocschat@contoso.com',
      '--pool',
      'pcpool2.contoso.com',
      '--json',
    );
    assert.equal(run.code, 0, run.stderr);
    const request = JSON.parse(run.stdout);
    assert.equal(request.status, 'applied');
    assert.equal(request.request.replaceLegacyUser, true);
    const holder = await call('GET', `/endpoints/${pathOf('sip:ocschat@contoso.com')}`);
    assert.equal(holder.body.poolFqdn, 'pcpool2.contoso.com');
    const topology = await call('GET', '/topology');
    assert.ok(!topology.body.users.some((u: any) => u.sipAddress === 'sip:ocschat@contoso.com'));
  });
});

describe('pchat commands and exit codes', () => {
  let env: E2EEnvironment;
  let call: ApiCall;
  let topology: Topology;
  const as = (key: string | undefined, ...args: string[]) => pchat(originOf(env), key, ...args);

  before(async () => {
    env = await startE2EEnvironment({ loadDemoTopology: false });
    call = apiClient(env.baseUrl, env.keys.all);
    topology = await aTopology(call);
  });
  after(async () => env?.stop());

  it('endpoint new | get | remove with kebab-case flags, --json printing the API JSON', async () => {
    const topology = await aTopology(call); // its own pool: a pool takes one admin-created endpoint
    const address = topology.address(uniqueLabel('kebab'));
    const created = await as(
      env.keys.submitter,
      'endpoint',
      'new',
      '--sip-address',
      address,
      '--pool',
      topology.pool(0),
      '--display-name',
      'Kebab',
      '--json',
    );
    assert.equal(created.code, 0, created.stderr);
    const request = JSON.parse(created.stdout);
    assert.deepEqual(request, (await call('GET', `/change-requests/${request.id}`)).body);

    const got = await as(env.keys.reader, 'endpoint', 'get', '--identity', address, '--json');
    assert.equal(got.code, 0, got.stderr);
    assert.deepEqual(JSON.parse(got.stdout), (await call('GET', `/endpoints/${pathOf(address)}`)).body);

    const removed = await as(env.keys.submitter, 'endpoint', 'remove', '--identity', address);
    assert.equal(removed.code, 0, removed.stderr);
    const missing = await as(env.keys.reader, 'endpoint', 'get', '--identity', address);
    assert.equal(missing.code, 1, 'not found is a no');
    assert.match(missing.stderr, /endpoint_not_found/);
  });

  it('a -WhatIf that predicts a rejection exits 1 with the code, and changes nothing', async () => {
    const head = await auditHead(call);
    const run = await as(env.keys.submitter, 'Remove-CsPersistentChatEndpoint', '-Identity', topology.defaultEndpoint(0), '-WhatIf');
    assert.equal(run.code, 1);
    assert.match(run.stderr, /would be rejected: default_endpoint_protected/);
    assert.equal((await call('GET', `/endpoints/${pathOf(topology.defaultEndpoint(0))}`)).status, 200);
    assert.equal(await auditHead(call), head);
  });

  it('--no-wait prints the request id alone; request get follows it (exit 0 once applied)', async () => {
    const topology = await aTopology(call); // its own pool: a pool takes one admin-created endpoint
    const address = topology.address(uniqueLabel('nowait'));
    const run = await as(env.keys.submitter, '--no-wait', 'endpoint', 'new', '--sip-address', address, '--pool', topology.pool(0));
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    assert.match(id, UUID);
    await settledRequest(call, id);
    const got = await as(env.keys.submitter, 'request', 'get', id);
    assert.equal(got.code, 0, got.stderr);
    assert.match(got.stdout, /^Status\s+: applied$/m);
  });

  it('[parallel route] request list filters by SIP address and prints the API page', async () => {
    const topology = await aTopology(call); // its own pool: a pool takes one admin-created endpoint
    const address = topology.address(uniqueLabel('listed'));
    const created = await as(env.keys.submitter, '--no-wait', 'endpoint', 'new', '--sip-address', address, '--pool', topology.pool(0));
    const id = created.stdout.trim();
    const run = await as(env.keys.submitter, 'request', 'list', '--sip-address', address, '--json');
    assert.equal(run.code, 0, run.stderr);
    const page = JSON.parse(run.stdout);
    assert.deepEqual(
      page.items.map((r: any) => r.id),
      [id],
    );
    assert.equal(page.nextCursor, null);
  });

  it('[parallel route] request cancel of a settled request exits 1 with change_request_settled and its status', async () => {
    const topology = await aTopology(call); // its own pool: a pool takes one admin-created endpoint
    const address = topology.address(uniqueLabel('settled'));
    const created = await as(env.keys.submitter, 'endpoint', 'new', '--sip-address', address, '--pool', topology.pool(0), '--json');
    const id = JSON.parse(created.stdout).id;
    const run = await as(env.keys.submitter, 'request', 'cancel', id);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /change_request_settled/);
    assert.match(run.stderr, /status: applied/);
  });

  it('[parallel route] -Identity by display name finds the one endpoint that has it', async () => {
    const topology = await aTopology(call); // its own pool: a pool takes one admin-created endpoint
    const address = topology.address(uniqueLabel('named'));
    const name = `Named ${uniqueLabel('n')}`;
    const created = await as(
      env.keys.submitter,
      'New-CsPersistentChatEndpoint',
      '-SipAddress',
      address,
      '-PersistentChatPoolFqdn',
      topology.pool(0),
      '-DisplayName',
      name,
    );
    assert.equal(created.code, 0, created.stderr);
    const run = await as(env.keys.reader, 'Get-CsPersistentChatEndpoint', '-Identity', name, '--json');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).sipAddress, address);
  });

  it('topology: sip-domain, pool and user add and remove; a refused removal exits 1 with its code', async () => {
    const domain = `${uniqueLabel('cli')}.fabrikam.test`;
    const pool = `pc.${domain}`;
    const user = `sip:ocschat@${domain}`;
    const op = (...args: string[]) => as(env.keys.operator, 'topology', ...args);

    assert.equal((await op('sip-domain', 'add', domain)).code, 0);
    const again = await op('sip-domain', 'add', domain);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /^unchanged sip-domain/);
    const added = await op('pool', 'add', pool, '--default-endpoint', `sip:pcdefault@${domain}`, '--json');
    assert.equal(added.code, 0, added.stderr);
    assert.equal(JSON.parse(added.stdout).pool.defaultEndpointSipAddress, `sip:pcdefault@${domain}`);
    assert.equal((await op('user', 'add', user, '--display-name', 'Lync 2010 Group Chat')).code, 0);

    const read = JSON.parse((await as(env.keys.reader, 'topology', 'get', '--json')).stdout);
    assert.ok(read.sipDomains.some((d: any) => d.name === domain));
    assert.ok(read.users.some((u: any) => u.sipAddress === user && u.displayName === 'Lync 2010 Group Chat'));

    const refused = await op('sip-domain', 'remove', domain);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /sip_domain_in_use/);

    assert.equal((await op('user', 'remove', user)).code, 0);
    assert.equal((await op('pool', 'remove', pool)).code, 0);
    const gone = await op('sip-domain', 'remove', domain);
    assert.equal(gone.code, 0, gone.stderr);
    assert.equal(gone.stdout.trim(), `removed sip-domain ${domain}`);
  });

  it('audit list, export (streamed to a file) and verify', async () => {
    const topology = await aTopology(call); // its own pool: a pool takes one admin-created endpoint
    const address = topology.address(uniqueLabel('audited'));
    assert.equal((await as(env.keys.submitter, 'endpoint', 'new', '--sip-address', address, '--pool', topology.pool(0))).code, 0);

    const list = await as(env.keys.auditor, 'audit', 'list', '--subject', address, '--json');
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(
      JSON.parse(list.stdout).items.map((r: any) => r.action),
      ['endpoint.created'],
    );

    const folder = await mkdtemp(path.join(tmpdir(), 'pchat-export-'));
    try {
      const file = path.join(folder, 'audit.ndjson');
      const exported = await as(env.keys.auditor, 'audit', 'export', '--format', 'ndjson', '--output', file, '--subject', address);
      assert.equal(exported.code, 0, exported.stderr);
      assert.equal(exported.stderr, '', 'no progress line when stderr is not a terminal');
      const records = (await readFile(file, 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      assert.deepEqual(
        records.map((r) => [r.subject, r.action]),
        [[address, 'endpoint.created']],
      );
    } finally {
      await rm(folder, { recursive: true, force: true });
    }

    const verified = await as(env.keys.auditor, 'audit', 'verify');
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, /^intact: /);
    // --full --json: the finished operation (POST /api/audit/verifications, waited on), a full run.
    const full = await as(env.keys.auditor, 'audit', 'verify', '--full', '--json');
    assert.equal(full.code, 0, full.stderr);
    const operation = JSON.parse(full.stdout);
    assert.deepEqual(
      [operation.status, operation.mode, operation.result.intact, operation.result.mode],
      ['succeeded', 'full', true, 'full'],
    );
    assert.equal(operation.progress.recordsChecked, operation.result.head.sequence);
  });

  it('exit 2 for usage, naming the parameter and the rule', async () => {
    const cases: Array<[args: string[], names: RegExp]> = [
      [['Frobnicate-CsThing'], /unknown command 'Frobnicate-CsThing'/],
      [
        ['New-CsPersistentChatEndpoint', '-SipAddress', topology.address('x'), '-PersistentChatPoolFqdn', topology.pool(0), '-Bogus'],
        /unknown option '-Bogus'/,
      ],
      [
        ['New-CsPersistentChatEndpoint', '-SipAddress', topology.address('x')],
        /required option '-PersistentChatPoolFqdn <fqdn>' not specified/,
      ],
      [['endpoint', 'get', '--result-size', '0'], /--result-size <n>' argument '0' is invalid\. must be a whole number from 1 to 1000000/],
      [['request', 'list', '--status', 'done'], /--status <status>' argument 'done' is invalid/],
      // Checked by the API (400), the field error mapped back to the parameter as typed.
      [
        ['New-CsPersistentChatEndpoint', '-SipAddress', 'persistentchat', '-PersistentChatPoolFqdn', topology.pool(0)],
        /-SipAddress: sipAddress .*sip:/,
      ],
      [['audit', 'list', '--since', 'yesterday'], /--since: since must be an RFC 3339 timestamp/],
      [['--url', 'ftp://example.com', 'topology', 'get'], /--url must be an http or https URL/],
    ];
    for (const [args, names] of cases) {
      const run = await as(env.keys.all, ...args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, names, args.join(' '));
    }
  });

  it('exit 3 when the app cannot be reached, the key is missing or wrong (401), or the role is not held (403); the key is never printed', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const unreachable = await pchat(`http://127.0.0.1:${closedPort}`, env.keys.reader, 'topology', 'get');
    assert.equal(unreachable.code, 3);
    assert.match(unreachable.stderr, /cannot reach http:\/\/127\.0\.0\.1:\d+\/api: ECONNREFUSED/);

    const noKey = await as(undefined, 'topology', 'get');
    assert.equal(noKey.code, 3);
    assert.match(noKey.stderr, /unauthenticated/);

    const wrongKey = 'not-a-key-' + uniqueLabel('k');
    const wrong = await as(wrongKey, 'topology', 'get');
    assert.equal(wrong.code, 3);
    assert.match(wrong.stderr, /unauthenticated.*\n.*PCHAT_API_KEY/);
    assert.ok(!wrong.stderr.includes(wrongKey) && !wrong.stdout.includes(wrongKey));

    const forbidden = await as(
      env.keys.reader,
      'New-CsPersistentChatEndpoint',
      '-SipAddress',
      topology.address('r'),
      '-PersistentChatPoolFqdn',
      topology.pool(0),
    );
    assert.equal(forbidden.code, 3);
    assert.match(forbidden.stderr, /forbidden: .*submitter/);
    assert.ok(!forbidden.stderr.includes(env.keys.reader));
  });

  it('takes the origin with a trailing /api too', async () => {
    const run = await pchat(`${originOf(env)}/api/`, env.keys.reader, 'topology', 'get', '--json');
    assert.equal(run.code, 0, run.stderr);
    assert.ok(JSON.parse(run.stdout).sipDomains.some((d: any) => d.name === topology.domain));
  });
});
