import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeQueueMessage } from '../../shared/adapters/transportRules';
import { apiClient, drainQueue, eventually, settled, startE2EEnvironment, type E2EEnvironment } from '../support/localHost';

let env: E2EEnvironment;

const call = (...args: Parameters<ReturnType<typeof apiClient>>) => apiClient(env.baseUrl)(...args);

/** Submits a change request and waits for its final status. */
async function submitAndSettle(request: Record<string, unknown>, headers: Record<string, string> = {}) {
  const accepted = await call('POST', '/change-requests', request, headers);
  assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
  return settled(env.baseUrl, accepted.headers.get('location') as string);
}

async function auditFor(subject: string) {
  return (await call('GET', `/audit?subject=${encodeURIComponent(subject)}`)).body.items as Array<Record<string, any>>;
}

const sip = (user: string, domain = 'contoso.com') => `sip:${user}@${domain}`;
const path = (address: string) => encodeURIComponent(address);

describe('change requests over HTTP on the local host', () => {
  before(async () => {
    env = await startE2EEnvironment();
  });
  after(async () => {
    await env.stop();
  });

  it('serves the demo topology on an empty store', async () => {
    const { status, body } = await call('GET', '/topology');

    assert.equal(status, 200);
    assert.deepEqual(
      body.sipDomains.map((d: any) => d.name),
      ['contoso.com'],
    );
    assert.deepEqual(
      body.pools.map((p: any) => [p.fqdn, p.defaultEndpoint.sipAddress]),
      [
        ['pcpool.contoso.com', 'sip:pcpool@contoso.com'],
        ['pcpool2.contoso.com', 'sip:pcpool2@contoso.com'],
      ],
    );
    assert.deepEqual(
      body.users.map((u: any) => u.sipAddress),
      ['sip:ocschat@contoso.com'],
    );
  });

  it('creates an endpoint: 202 + Location, then applied, stored, audited once and announced as a CloudEvent', async () => {
    await drainQueue(env.queues, 'audit-events');
    const accepted = await call(
      'POST',
      '/change-requests',
      {
        operation: 'create',
        sipAddress: 'SIP:PersistentChat@Contoso.com',
        poolFqdn: 'pcpool.contoso.com',
        displayName: 'Legacy Group Chat',
      },
      { 'x-correlation-id': 'ticket-4711' },
    );

    assert.equal(accepted.status, 202);
    assert.equal(accepted.headers.get('location'), `/api/change-requests/${accepted.body.id}`);
    assert.equal(accepted.body.status, 'accepted');
    const final = await settled(env.baseUrl, accepted.headers.get('location') as string);
    assert.equal(final.status, 'applied');
    assert.equal(final.correlationId, 'ticket-4711');

    const endpoint = await call('GET', `/endpoints/${path(sip('persistentchat'))}`);
    assert.equal(endpoint.status, 200);
    assert.deepEqual(
      {
        sipAddress: endpoint.body.sipAddress,
        poolFqdn: endpoint.body.poolFqdn,
        displayName: endpoint.body.displayName,
        isDefault: endpoint.body.isDefault,
        changeRequestId: endpoint.body.changeRequestId,
      },
      {
        sipAddress: sip('persistentchat'),
        poolFqdn: 'pcpool.contoso.com',
        displayName: 'Legacy Group Chat',
        isDefault: false,
        changeRequestId: accepted.body.id,
      },
    );

    const records = await auditFor(sip('persistentchat'));
    assert.equal(records.length, 1);
    assert.equal(records[0]?.action, 'endpoint.created');
    assert.equal(records[0]?.changeRequestId, accepted.body.id);
    assert.equal(records[0]?.correlationId, 'ticket-4711');
    assert.deepEqual(records[0]?.outcome, { status: 'applied' });
    assert.equal(records[0]?.sequence, final.auditSequence);

    const events = await drainQueue(env.queues, 'audit-events');
    const event = events.find((e) => e.id === records[0]?.id);
    assert.ok(event, 'the audit record was published as an event');
    assert.equal(event.specversion, '1.0');
    assert.equal(event.type, 'pchat.endpoint.created.v1');
    assert.equal(event.subject, sip('persistentchat'));
    assert.equal(event.correlationid, 'ticket-4711');
    assert.deepEqual(event.data, records[0]);
  });

  it('rejects each broken rule with its own code, audited, and changes nothing', async () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ['sip_domain_not_supported', { operation: 'create', sipAddress: sip('chat', 'fabrikam.com'), poolFqdn: 'pcpool2.contoso.com' }],
      ['pool_not_found', { operation: 'create', sipAddress: sip('chat2'), poolFqdn: 'nopool.contoso.com' }],
      ['sip_address_held_by_endpoint', { operation: 'create', sipAddress: sip('pcpool'), poolFqdn: 'pcpool2.contoso.com' }],
      ['sip_address_held_by_user', { operation: 'create', sipAddress: sip('ocschat'), poolFqdn: 'pcpool2.contoso.com' }],
      [
        'legacy_user_not_found',
        { operation: 'create', sipAddress: sip('nobody'), poolFqdn: 'pcpool2.contoso.com', replaceLegacyUser: true },
      ],
      ['pool_has_endpoint', { operation: 'create', sipAddress: sip('second'), poolFqdn: 'pcpool.contoso.com' }],
      ['endpoint_not_found', { operation: 'delete', sipAddress: sip('ghost') }],
      ['default_endpoint_protected', { operation: 'delete', sipAddress: sip('pcpool2') }],
    ];
    const before = (await call('GET', '/endpoints')).body.items;

    for (const [code, request] of cases) {
      const final = await submitAndSettle(request);

      assert.equal(final.status, 'rejected', code);
      assert.equal(final.reason.code, code);
      assert.match(final.reason.message, /\S/);
      const records = await auditFor(request.sipAddress as string);
      const record = records.find((r) => r.changeRequestId === final.id);
      assert.deepEqual(record?.outcome, { status: 'rejected', code, message: final.reason.message }, code);
    }
    assert.deepEqual((await call('GET', '/endpoints')).body.items, before);
  });

  it('migrates the Lync 2010 Group Chat user to an endpoint with the same address in one step', async () => {
    const final = await submitAndSettle({
      operation: 'create',
      sipAddress: sip('ocschat'),
      poolFqdn: 'pcpool2.contoso.com',
      replaceLegacyUser: true,
    });

    assert.equal(final.status, 'applied');
    const topology = (await call('GET', '/topology')).body;
    assert.deepEqual(topology.users, []);
    const endpoint = (await call('GET', `/endpoints/${path(sip('ocschat'))}`)).body;
    assert.equal(endpoint.poolFqdn, 'pcpool2.contoso.com');
    const [record] = await auditFor(sip('ocschat'));
    assert.equal(record?.action, 'endpoint.created');
    assert.equal(record?.before.kind, 'user');
    assert.equal(record?.after.kind, 'endpoint');
  });

  it('deletes an endpoint and frees its pool for a new one', async () => {
    const deleted = await submitAndSettle({ operation: 'delete', sipAddress: sip('persistentchat') });

    assert.equal(deleted.status, 'applied');
    assert.equal((await call('GET', `/endpoints/${path(sip('persistentchat'))}`)).status, 404);
    const [record] = await auditFor(sip('persistentchat'));
    assert.equal(record?.action, 'endpoint.deleted');
    assert.equal(record?.after, null);
    const recreated = await submitAndSettle({ operation: 'create', sipAddress: sip('chat'), poolFqdn: 'pcpool.contoso.com' });
    assert.equal(recreated.status, 'applied');
  });

  it('answers a dry run with the predicted outcome and changes nothing', async () => {
    const auditBefore = (await call('GET', '/audit?limit=1')).body.items[0].sequence;

    const wouldApply = await call('POST', '/change-requests?dryRun=true', { operation: 'delete', sipAddress: sip('chat') });
    const wouldReject = await call('POST', '/change-requests?dryRun=true', {
      operation: 'create',
      sipAddress: sip('other'),
      poolFqdn: 'pcpool.contoso.com',
    });

    assert.equal(wouldApply.status, 200);
    assert.equal(wouldApply.body.outcome, 'applied');
    assert.equal(wouldApply.body.before.sipAddress, sip('chat'));
    assert.equal(wouldApply.body.after, null);
    assert.equal(wouldReject.status, 200);
    assert.equal(wouldReject.body.outcome, 'rejected');
    assert.equal(wouldReject.body.reason.code, 'pool_has_endpoint');
    assert.equal((await call('GET', `/endpoints/${path(sip('chat'))}`)).status, 200);
    assert.equal((await call('GET', '/audit?limit=1')).body.items[0].sequence, auditBefore);
  });

  it('refuses bad input with problem details naming the field and the rule, writing nothing', async () => {
    const auditBefore = (await call('GET', '/audit?limit=1')).body.items[0].sequence;

    const invalid = await call('POST', '/change-requests', {
      operation: 'create',
      sipAddress: 'persistentchat@contoso.com',
      poolFqdn: 'pcpool',
      colour: 'red',
    });
    const update = await call('POST', '/change-requests', { operation: 'update', sipAddress: sip('chat') });
    const malformed = await call('POST', '/change-requests', '{"operation":');
    const wrongType = await fetch(`${env.baseUrl}/change-requests`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    });
    const tooLarge = await call('POST', '/change-requests', { operation: 'delete', sipAddress: sip('chat'), padding: 'x'.repeat(70_000) });
    const badLimit = await call('GET', '/endpoints?limit=0');
    const badPath = await call('GET', '/endpoints/not-a-sip-address');

    assert.equal(invalid.status, 400);
    assert.deepEqual(invalid.body.errors.map((e: any) => e.pointer).sort(), ['#/colour', '#/poolFqdn', '#/sipAddress']);
    assert.match(invalid.body.errors.find((e: any) => e.pointer === '#/sipAddress').detail, /sip: scheme/);
    assert.equal(update.status, 400);
    assert.equal(update.body.errors[0].pointer, '#/operation');
    assert.match(update.body.errors[0].detail, /there is no update/);
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.code, 'malformed_json');
    assert.equal(wrongType.status, 415);
    assert.equal(wrongType.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(tooLarge.status, 413);
    assert.equal(badLimit.status, 400);
    assert.equal(badLimit.body.errors[0].pointer, '#/limit');
    assert.equal(badPath.status, 400);
    assert.equal(badPath.body.errors[0].pointer, '#/sipAddress');
    assert.equal((await call('GET', '/audit?limit=1')).body.items[0].sequence, auditBefore);
  });

  it('answers unknown routes with 404 and wrong methods with 405', async () => {
    const unknown = await call('GET', '/nothing-here');
    const wrongMethod = await call('PATCH', '/endpoints');

    assert.equal(unknown.status, 404);
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'GET');
  });

  it('applies a change request that automation put straight on the queue, under its own actor', async () => {
    await submitAndSettle({ operation: 'delete', sipAddress: sip('chat') });
    const queue = env.queues.getQueueClient('endpoint-create');

    await queue.sendMessage(
      encodeQueueMessage({
        schemaVersion: 1,
        operation: 'create',
        sipAddress: sip('bot'),
        poolFqdn: 'pcpool.contoso.com',
        actor: 'provisioning-bot',
      }),
    );

    const endpoint = await eventually(async () => {
      const response = await call('GET', `/endpoints/${path(sip('bot'))}`);
      return response.status === 200 ? response.body : undefined;
    });
    const request = (await call('GET', `/change-requests/${endpoint.changeRequestId}`)).body;
    assert.equal(request.status, 'applied');
    assert.equal(request.channel, 'queue');
    assert.equal(request.actor, 'provisioning-bot');
    const [record] = await auditFor(sip('bot'));
    assert.equal(record?.actor, 'provisioning-bot');
  });

  it('dead-letters a malformed queue message with its reason, records it as rejected and audits it', async () => {
    const queue = env.queues.getQueueClient('endpoint-delete');

    await queue.sendMessage(encodeQueueMessage({ schemaVersion: 1, operation: 'delete', sipAddress: 'sip:broken@@contoso.com' }));

    const [letter] = await eventually(async () => {
      const letters = await drainQueue(env.queues, 'endpoint-delete-poison');
      return letters.length ? letters : undefined;
    });
    assert.equal(letter.reason, 'invalid_message');
    assert.equal(letter.errors[0].pointer, '#/sipAddress');
    assert.deepEqual(letter.original, { schemaVersion: 1, operation: 'delete', sipAddress: 'sip:broken@@contoso.com' });
    const [record] = await auditFor('sip:broken@@contoso.com');
    assert.equal(record?.action, 'change-request.invalid');
    assert.equal(record?.outcome.code, 'invalid_message');
    const request = (await call('GET', `/change-requests/${record?.changeRequestId}`)).body;
    assert.equal(request.status, 'rejected');
    assert.equal(request.reason.errors[0].pointer, '#/sipAddress');
  });

  it('retries a message the function cannot take and moves it to the poison queue after maxDequeueCount', async () => {
    const queue = env.queues.getQueueClient('endpoint-create');
    // Plain JSON, not base64: the Functions host (and so the local host) cannot decode it.
    const { messageId } = await queue.sendMessage('{"operation":"create"}');

    const poisoned = await eventually(async () => {
      const poison = env.queues.getQueueClient('endpoint-create-poison');
      if (!(await poison.exists())) return undefined;
      const { peekedMessageItems } = await poison.peekMessages({ numberOfMessages: 32 });
      return peekedMessageItems.find((m) => m.messageText === '{"operation":"create"}');
    }, 20_000);

    assert.ok(poisoned);
    const attempts = env.logs.filter((line) => line.includes(`message ${messageId} failed on dequeue`));
    assert.equal(attempts.length, 5, attempts.join('\n'));
  });

  it('manages the topology: audited PUT/DELETE with 201, 200, 204, 404 and 409', async () => {
    const added = await call('PUT', '/topology/sip-domains/fabrikam.com');
    const again = await call('PUT', '/topology/sip-domains/fabrikam.com');
    const pool = await call('PUT', '/topology/pools/pc.fabrikam.com', { defaultEndpointSipAddress: 'sip:pcdefault@fabrikam.com' });
    const user = await call('PUT', `/topology/users/${path('sip:legacy@fabrikam.com')}`, { displayName: 'Legacy user' });
    const domainInUse = await call('DELETE', '/topology/sip-domains/fabrikam.com');
    const removedUser = await call('DELETE', `/topology/users/${path('sip:legacy@fabrikam.com')}`);
    const retired = await call('DELETE', '/topology/pools/pc.fabrikam.com');
    const removed = await call('DELETE', '/topology/sip-domains/fabrikam.com');
    const missing = await call('DELETE', '/topology/sip-domains/fabrikam.com');

    assert.deepEqual([added.status, again.status, pool.status, user.status], [201, 200, 201, 201]);
    assert.equal(pool.body.defaultEndpoint.sipAddress, 'sip:pcdefault@fabrikam.com');
    assert.equal(domainInUse.status, 409);
    assert.equal(domainInUse.body.code, 'sip_domain_in_use');
    assert.deepEqual([removedUser.status, retired.status, removed.status, missing.status], [204, 204, 204, 404]);
    const actions = (await call('GET', '/audit?limit=5')).body.items.map((r: any) => r.action);
    assert.deepEqual(actions, ['sip-domain.removed', 'pool.retired', 'directory-user.removed', 'directory-user.added', 'pool.registered']);
  });

  it('filters and pages the audit log and the endpoint list', async () => {
    const firstPage = await call('GET', '/audit?limit=3');
    const secondPage = await call('GET', `/audit?limit=3&cursor=${firstPage.body.nextCursor}`);
    const created = await call('GET', '/audit?type=endpoint.created');
    const wildcard = await call('GET', `/endpoints?sipAddress=${encodeURIComponent('sip:pcpool*')}`);
    const byPool = await call('GET', '/endpoints?poolFqdn=pcpool2.contoso.com');

    const sequences = [...firstPage.body.items, ...secondPage.body.items].map((r: any) => r.sequence);
    assert.equal(sequences.length, 6);
    assert.deepEqual(
      sequences,
      [...sequences].sort((a, b) => b - a),
    );
    assert.equal(new Set(sequences).size, 6);
    assert.deepEqual(
      created.body.items.map((r: any) => [r.action, r.subject]),
      [
        ['endpoint.created', sip('bot')],
        ['endpoint.created', sip('chat')],
        ['endpoint.created', sip('ocschat')],
        ['endpoint.created', sip('persistentchat')],
      ],
    );
    assert.deepEqual(wildcard.body.items.map((e: any) => e.sipAddress).sort(), ['sip:pcpool2@contoso.com', 'sip:pcpool@contoso.com']);
    assert.deepEqual(byPool.body.items.map((e: any) => e.sipAddress).sort(), ['sip:ocschat@contoso.com', 'sip:pcpool2@contoso.com']);
  });

  it('verifies the audit log over HTTP: intact, every record checked, no checkpoints without a signing key', async () => {
    const { status, body } = await call('GET', '/audit/verify');
    const newest = (await call('GET', '/audit?limit=1')).body.items[0];

    assert.equal(status, 200);
    assert.equal(body.intact, true);
    assert.equal(body.firstBreak, null);
    assert.equal(body.recordsChecked, body.head.sequence);
    assert.ok(body.head.sequence >= newest.sequence - 1);
    assert.deepEqual(body.checkpoints, { checked: 0, newest: null, signingKey: 'not configured' });
    assert.equal((await call('GET', '/audit/verify?full=yes')).status, 400);
  });

  it('exports the whole filtered log as NDJSON and as CSV, streamed, formula-safe', async () => {
    // An actor a spreadsheet would run as a formula.
    await submitAndSettle(
      { operation: 'delete', sipAddress: sip('nobody-here') },
      { 'x-ms-client-principal-name': '=HYPERLINK("http://evil")' },
    );
    const everything = (await call('GET', '/audit?limit=1000')).body.items;

    const ndjson = await fetch(`${env.baseUrl}/audit?format=ndjson`);
    assert.equal(ndjson.status, 200);
    assert.equal(ndjson.headers.get('content-type'), 'application/x-ndjson; charset=utf-8');
    assert.match(ndjson.headers.get('content-disposition') ?? '', /^attachment; filename="audit-.*\.ndjson"$/);
    const lines = (await ndjson.text())
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.deepEqual(lines, everything);

    const csv = await fetch(`${env.baseUrl}/audit?format=csv&outcome=rejected`);
    assert.equal(csv.headers.get('content-type'), 'text/csv; charset=utf-8');
    const rows = (await csv.text()).split('\r\n').filter((row) => row !== '');
    assert.equal(
      rows[0],
      'sequence,time,actor,action,subject,changeRequestId,correlationId,causationId,outcome,code,message,before,after,id,previousHash,hash',
    );
    const rejected = everything.filter((r: any) => r.outcome.status === 'rejected');
    assert.equal(rows.length, 1 + rejected.length);
    assert.ok(
      rows.some((row) => row.includes(`,"'=HYPERLINK(""http://evil"")",`)),
      'the formula is quoted and defused',
    );
    assert.ok(rows.slice(1).every((row) => row.split(',')[0] !== '' && /,rejected,/.test(row)));

    const paged = await call('GET', '/audit?format=csv&cursor=abc');
    assert.equal(paged.status, 400);
    assert.equal(paged.body.errors[0].pointer, '#/cursor');
    const limited = await call('GET', '/audit?format=ndjson&limit=5');
    assert.equal(limited.status, 400);
    assert.equal(limited.body.errors[0].pointer, '#/limit');
  });

  it('filters the audit log by outcome and by change request', async () => {
    const rejected = (await call('GET', '/audit?outcome=rejected&limit=1000')).body.items;
    assert.ok(rejected.length >= 8);
    assert.deepEqual(new Set(rejected.map((r: any) => r.outcome.status)), new Set(['rejected']));
    const [one] = rejected;
    assert.deepEqual(
      (await call('GET', `/audit?changeRequest=${one.changeRequestId}`)).body.items.map((r: any) => r.id),
      [one.id],
    );
    const bad = await call('GET', '/audit?outcome=maybe');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].pointer, '#/outcome');
  });
});
