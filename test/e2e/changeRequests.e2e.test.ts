import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeQueueMessage } from '../../shared/adapters/transportRules';
import { changeRequestIdForMessage } from '../../shared/application/changeRequests/messages';
import {
  aCorrelationId,
  aTopology,
  aUniqueDomain,
  auditFor,
  auditUnder,
  pathOf,
  publishedEventsAbout,
  settledRequest,
  submitAndSettle,
} from '../support/apiData';
import { aCreateRequest, aDeleteRequest, fqdn, sip } from '../support/builders';
import { randomBytes } from 'node:crypto';
import { apiClient, drainQueue, eventually, startE2EEnvironment, type ApiCall, type E2EEnvironment } from '../support/localHost';

let env: E2EEnvironment;

// Setup and reads go through a caller with every role; tests about roles use the narrow keys.
const call: ApiCall = (...args) => apiClient(env.baseUrl, env.keys.all)(...args);
const auditorHeaders = () => ({ authorization: `Bearer ${env.keys.auditor}` });

/** A principal whose name a spreadsheet would run as a formula: the CSV export must defuse it. */
const FORMULA_PRINCIPAL = { principal: '=HYPERLINK("http://evil")', roles: ['submitter'], key: randomBytes(32).toString('base64url') };
const correlated = (correlationId: string) => ({ 'x-correlation-id': correlationId });

/** What an audit record says happened, without its time, id and hashes. */
const summary = (record: Record<string, any> | undefined) => ({
  action: record?.action,
  subject: record?.subject,
  changeRequestId: record?.changeRequestId,
  outcome: record?.outcome,
});

/** The addresses of the endpoints (default ones included) in a SIP domain, sorted. */
async function endpointsIn(domain: string): Promise<string[]> {
  const { body } = await call('GET', `/endpoints?sipAddress=${encodeURIComponent(`sip:*@${domain}`)}&limit=1000`);
  return body.items.map((e: any) => e.sipAddress).sort();
}

/** An RFC 4180 document's rows and fields (CRLF line ends, "" escapes a quote inside a quoted field). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '"' && text[i + 1] === '"') {
      field += '"';
      i++;
    } else if (c === '"') quoted = !quoted;
    else if (!quoted && c === ',') {
      row.push(field);
      field = '';
    } else if (!quoted && c === '\r' && text[i + 1] === '\n') {
      rows.push([...row, field]);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  return rows;
}

describe('change requests over HTTP on the local host', () => {
  before(async () => {
    env = await startE2EEnvironment({ loadDemoTopology: false, extraKeys: [FORMULA_PRINCIPAL] });
  });
  after(async () => {
    await env.stop();
  });

  it('creates an endpoint: 202 + Location, then applied, stored, audited once and announced as a CloudEvent', async () => {
    const topology = await aTopology(call);
    const correlationId = aCorrelationId();
    const address = topology.address('persistentchat');

    const accepted = await call(
      'POST',
      '/change-requests',
      {
        operation: 'create',
        sipAddress: `SIP:PersistentChat@${topology.domain.toUpperCase()}`,
        poolFqdn: topology.pool(),
        displayName: 'Legacy Group Chat',
      },
      { ...correlated(correlationId), authorization: `Bearer ${env.keys.submitter}` },
    );

    assert.equal(accepted.status, 202);
    assert.equal(accepted.headers.get('location'), `${env.baseUrl.replace('127.0.0.1', 'localhost')}/change-requests/${accepted.body.id}`);
    assert.equal(accepted.body.status, 'accepted');
    const final = await settledRequest(call, accepted.body.id);
    const request = { operation: 'create', sipAddress: address, poolFqdn: topology.pool(), displayName: 'Legacy Group Chat' };
    assert.deepEqual(
      [final.status, final.request, final.reason, final.actor, final.correlationId, final.channel],
      ['applied', request, null, env.principals.submitter, correlationId, 'http'],
    );

    const endpoint = await call('GET', `/endpoints/${pathOf(address)}`);
    assert.equal(endpoint.status, 200);
    assert.deepEqual(endpoint.body, {
      kind: 'endpoint',
      sipAddress: address,
      poolFqdn: topology.pool(),
      displayName: 'Legacy Group Chat',
      isDefault: false,
      createdAt: final.completedAt,
      changeRequestId: accepted.body.id,
    });

    const records = await auditFor(call, address);
    assert.deepEqual(
      records.map((r) => [summary(r), r.correlationId, r.sequence, r.before, r.after]),
      [
        [
          { action: 'endpoint.created', subject: address, changeRequestId: accepted.body.id, outcome: { status: 'applied' } },
          correlationId,
          final.auditSequence,
          null,
          endpoint.body,
        ],
      ],
    );

    const events = await publishedEventsAbout(env, address);
    assert.deepEqual(
      events.map((e) => [e.id, e.specversion, e.type, e.subject, e.correlationid, e.sequence]),
      [[records[0]?.id, '1.0', 'pchat.endpoint.created.v1', address, correlationId, String(final.auditSequence).padStart(16, '0')]],
    );
    assert.deepEqual(events[0].data, records[0]);
  });

  it('rejects each broken rule with its own code, audited, and changes nothing', async () => {
    const topology = await aTopology(call, { pools: 2, users: ['ocschat'] });
    const occupied = await submitAndSettle(call, aCreateRequest({ sipAddress: topology.address('first'), poolFqdn: topology.pool(0) }));
    assert.equal(occupied.status, 'applied');
    const cases: Array<[string, Record<string, unknown>]> = [
      ['sip_domain_not_supported', aCreateRequest({ sipAddress: sip(`sip:chat@${aUniqueDomain()}`), poolFqdn: topology.pool(1) })],
      ['pool_not_found', aCreateRequest({ sipAddress: topology.address('chat2'), poolFqdn: fqdn(`nopool.${topology.domain}`) })],
      ['sip_address_held_by_endpoint', aCreateRequest({ sipAddress: topology.defaultEndpoint(0), poolFqdn: topology.pool(1) })],
      ['sip_address_held_by_user', aCreateRequest({ sipAddress: topology.address('ocschat'), poolFqdn: topology.pool(1) })],
      [
        'legacy_user_not_found',
        aCreateRequest({ sipAddress: topology.address('nobody'), poolFqdn: topology.pool(1), replaceLegacyUser: true }),
      ],
      ['pool_has_endpoint', aCreateRequest({ sipAddress: topology.address('second'), poolFqdn: topology.pool(0) })],
      ['endpoint_not_found', aDeleteRequest({ sipAddress: topology.address('ghost') })],
      ['default_endpoint_protected', aDeleteRequest({ sipAddress: topology.defaultEndpoint(1) })],
    ];
    const endpointsBefore = await endpointsIn(topology.domain);

    for (const [code, request] of cases) {
      const final = await submitAndSettle(call, request);

      assert.deepEqual([final.status, final.reason.code], ['rejected', code]);
      assert.match(final.reason.message, /\S/);
      const records = (await call('GET', `/audit?changeRequest=${final.id}`)).body.items;
      assert.deepEqual(records.map(summary), [
        {
          action: request.operation === 'create' ? 'endpoint.create-rejected' : 'endpoint.delete-rejected',
          subject: request.sipAddress,
          changeRequestId: final.id,
          outcome: { status: 'rejected', code, message: final.reason.message },
        },
      ]);
    }
    assert.deepEqual(endpointsBefore, [topology.address('first'), ...topology.defaultEndpoints].sort());
    assert.deepEqual(await endpointsIn(topology.domain), endpointsBefore);
    const { users } = (await call('GET', '/topology')).body;
    assert.deepEqual(
      users.filter((u: any) => u.sipAddress.endsWith(`@${topology.domain}`)).map((u: any) => u.sipAddress),
      topology.users,
    );
  });

  it('migrates the Lync 2010 Group Chat user to an endpoint with the same address in one step', async () => {
    const topology = await aTopology(call, { pools: 2, users: ['ocschat'] });
    const address = topology.address('ocschat');

    const final = await submitAndSettle(call, aCreateRequest({ sipAddress: address, poolFqdn: topology.pool(1), replaceLegacyUser: true }));

    assert.equal(final.status, 'applied');
    const { users } = (await call('GET', '/topology')).body;
    assert.deepEqual(
      users.filter((u: any) => u.sipAddress.endsWith(`@${topology.domain}`)),
      [],
    );
    const endpoint = (await call('GET', `/endpoints/${pathOf(address)}`)).body;
    assert.deepEqual([endpoint.sipAddress, endpoint.poolFqdn, endpoint.changeRequestId], [address, topology.pool(1), final.id]);
    const records = await auditFor(call, address);
    assert.deepEqual(
      records.map((r) => [r.action, r.changeRequestId, r.before?.kind ?? null, r.after?.kind ?? null]),
      [
        ['endpoint.created', final.id, 'user', 'endpoint'],
        ['directory-user.added', null, null, 'user'],
      ],
    );
  });

  it('deletes an endpoint and frees its pool for a new one', async () => {
    const topology = await aTopology(call);
    const address = topology.address('persistentchat');
    const created = await submitAndSettle(call, aCreateRequest({ sipAddress: address, poolFqdn: topology.pool() }));

    const deleted = await submitAndSettle(call, aDeleteRequest({ sipAddress: address }));

    assert.deepEqual([created.status, deleted.status], ['applied', 'applied']);
    assert.equal((await call('GET', `/endpoints/${pathOf(address)}`)).status, 404);
    const records = await auditFor(call, address);
    assert.deepEqual(
      records.map((r) => [r.action, r.changeRequestId, r.after?.kind ?? null]),
      [
        ['endpoint.deleted', deleted.id, null],
        ['endpoint.created', created.id, 'endpoint'],
      ],
    );
    const recreated = await submitAndSettle(call, aCreateRequest({ sipAddress: topology.address('chat'), poolFqdn: topology.pool() }));
    assert.equal(recreated.status, 'applied');
    assert.deepEqual(await endpointsIn(topology.domain), [topology.address('chat'), topology.defaultEndpoint()]);
  });

  it('answers a dry run with the predicted outcome and changes nothing', async () => {
    const topology = await aTopology(call);
    const address = topology.address('chat');
    await submitAndSettle(call, aCreateRequest({ sipAddress: address, poolFqdn: topology.pool() }));
    const recordsBefore = await auditFor(call, address);
    const correlationId = aCorrelationId();

    const wouldApply = await call(
      'POST',
      '/change-requests?dryRun=true',
      aDeleteRequest({ sipAddress: address }),
      correlated(correlationId),
    );
    const wouldReject = await call(
      'POST',
      '/change-requests?dryRun=true',
      aCreateRequest({ sipAddress: topology.address('other'), poolFqdn: topology.pool() }),
      correlated(correlationId),
    );

    assert.equal(wouldApply.status, 200);
    assert.deepEqual([wouldApply.body.outcome, wouldApply.body.before.sipAddress, wouldApply.body.after], ['applied', address, null]);
    assert.equal(wouldReject.status, 200);
    assert.deepEqual([wouldReject.body.outcome, wouldReject.body.reason.code], ['rejected', 'pool_has_endpoint']);
    assert.equal((await call('GET', `/endpoints/${pathOf(address)}`)).status, 200);
    assert.deepEqual(await auditFor(call, address), recordsBefore);
    assert.deepEqual(await auditFor(call, topology.address('other')), []);
    assert.deepEqual(await auditUnder(call, correlationId), []);
  });

  it('refuses bad input with problem details naming the field and the rule, writing nothing', async () => {
    const domain = aUniqueDomain();
    const correlationId = aCorrelationId();
    const headers = correlated(correlationId);

    const invalid = await call(
      'POST',
      '/change-requests',
      { operation: 'create', sipAddress: `persistentchat@${domain}`, poolFqdn: 'pcpool', colour: 'red' },
      headers,
    );
    const update = await call('POST', '/change-requests', { operation: 'update', sipAddress: `sip:chat@${domain}` }, headers);
    const malformed = await call('POST', '/change-requests', '{"operation":', headers);
    const wrongType = await fetch(`${env.baseUrl}/change-requests`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'text/plain', authorization: `Bearer ${env.keys.submitter}` },
      body: '{}',
    });
    const tooLarge = await call(
      'POST',
      '/change-requests',
      { ...aDeleteRequest({ sipAddress: sip(`sip:chat@${domain}`) }), padding: 'x'.repeat(70_000) },
      headers,
    );
    const badLimit = await call('GET', '/endpoints?limit=0');
    // Without sip: the identity is a display name (a 404 when nobody has it); with it, it must be an address.
    const badPath = await call('GET', '/endpoints/sip%3Anot-a-sip-address');

    assert.equal(invalid.status, 400);
    assert.deepEqual(invalid.body.errors.map((e: any) => e.pointer).sort(), ['#/colour', '#/poolFqdn', '#/sipAddress']);
    assert.match(invalid.body.errors.find((e: any) => e.pointer === '#/sipAddress').detail, /sip: scheme/);
    assert.equal(update.status, 400);
    assert.equal(update.body.errors[0].pointer, '#/operation');
    assert.match(update.body.errors[0].detail, /there is no update/);
    assert.deepEqual([malformed.status, malformed.body.code], [400, 'malformed_json']);
    assert.equal(wrongType.status, 415);
    assert.equal(wrongType.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(tooLarge.status, 413);
    assert.deepEqual([badLimit.status, badLimit.body.errors[0].pointer], [400, '#/limit']);
    assert.deepEqual([badPath.status, badPath.body.errors[0].pointer], [400, '#/identity']);
    assert.deepEqual(await auditUnder(call, correlationId), []);
  });

  it('answers unknown routes with 404 and wrong methods with 405', async () => {
    const unknown = await call('GET', '/nothing-here');
    const wrongMethod = await call('PATCH', '/endpoints');

    assert.equal(unknown.status, 404);
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'GET');
  });

  it('applies a change request that automation put straight on the queue, under the queue as actor, on behalf of its claim', async () => {
    const topology = await aTopology(call);
    const address = topology.address('bot');
    const correlationId = aCorrelationId();
    const queue = env.queues.getQueueClient('endpoint-create');

    const { messageId } = await queue.sendMessage(
      encodeQueueMessage({
        schemaVersion: 1,
        ...aCreateRequest({ sipAddress: address, poolFqdn: topology.pool() }),
        actor: 'provisioning-bot',
        correlationId,
      }),
    );

    const id = changeRequestIdForMessage('endpoint-create', messageId);
    const request = await eventually(async () => {
      const response = await call('GET', `/change-requests/${id}`);
      return response.status === 200 && response.body.status !== 'accepted' ? response.body : undefined;
    });
    assert.deepEqual(
      [request.status, request.channel, request.actor, request.onBehalfOf, request.correlationId],
      ['applied', 'queue', 'queue:endpoint-create', 'provisioning-bot', correlationId],
    );
    const endpoint = (await call('GET', `/endpoints/${pathOf(address)}`)).body;
    assert.deepEqual([endpoint.poolFqdn, endpoint.changeRequestId], [topology.pool(), id]);
    assert.deepEqual(
      (await auditFor(call, address)).map((r) => [r.action, r.actor, r.onBehalfOf, r.changeRequestId, r.correlationId]),
      [['endpoint.created', 'queue:endpoint-create', 'provisioning-bot', id, correlationId]],
    );
    const claimed = await call('GET', `/audit?onBehalfOf=provisioning-bot&correlation=${correlationId}`);
    assert.deepEqual(
      claimed.body.items.map((r: any) => [r.action, r.changeRequestId]),
      [['endpoint.created', id]],
    );
  });

  it('dead-letters a malformed queue message with its reason, records it as rejected and audits it', async () => {
    const broken = `sip:broken@@${aUniqueDomain()}`;
    const original = { schemaVersion: 1, operation: 'delete', sipAddress: broken };
    const queue = env.queues.getQueueClient('endpoint-delete');

    const { messageId } = await queue.sendMessage(encodeQueueMessage(original));

    const id = changeRequestIdForMessage('endpoint-delete', messageId);
    const letters = await eventually(async () => {
      const mine = (await drainQueue(env.queues, 'endpoint-delete-poison')).filter((letter) => letter.messageId === messageId);
      return mine.length ? mine : undefined;
    });
    const request = (await call('GET', `/change-requests/${id}`)).body;
    assert.deepEqual(
      [request.status, request.reason.code, request.reason.errors.map((e: any) => e.pointer)],
      ['rejected', 'invalid_message', ['#/sipAddress']],
    );
    assert.deepEqual(
      letters.map((letter) => [letter.reason, letter.errors, letter.original]),
      // The original exactly as it was on the queue (base64 here), so an operator can put it back as is.
      [['invalid_message', request.reason.errors, encodeQueueMessage(original)]],
    );
    // An address that is not valid is no subject: the record is about the queue it came from.
    const records = (await call('GET', `/audit?changeRequest=${id}`)).body.items;
    assert.deepEqual(
      records.map((r: any) => [r.action, r.subject, r.changeRequestId, r.outcome.code, r.after]),
      [['change-request.invalid', 'queue:endpoint-delete', id, 'invalid_message', { errors: request.reason.errors }]],
    );
  });

  it('records, audits and dead-letters hostile queue messages, and then applies a valid request for the same address', async () => {
    const users = ['h-actor', 'h-corr', 'h-sip', 'h-long', 'h-text'];
    // One pool per address: each pool takes one admin endpoint, and every address gets its valid request applied.
    const topology = await aTopology(call, { pools: users.length });
    const queue = env.queues.getQueueClient('endpoint-create');
    const lone = '\ud800';
    const long = '€'.repeat(300);
    const create = (user: string, fields: Record<string, unknown> = {}) => ({
      schemaVersion: 1,
      ...aCreateRequest({ sipAddress: topology.address(user), poolFqdn: topology.pool(users.indexOf(user)) }),
      ...fields,
    });
    // JSON.stringify escapes a lone surrogate (\ud800), so it survives the wire; the raw text is not base64 at all.
    const hostile: Array<{ name: string; text: string; user: string; pointer: string }> = [
      { name: 'actor', text: encodeQueueMessage(create('h-actor', { actor: `bot${lone}` })), user: 'h-actor', pointer: '#/actor' },
      {
        name: 'correlationId',
        text: encodeQueueMessage(create('h-corr', { correlationId: long })),
        user: 'h-corr',
        pointer: '#/correlationId',
      },
      {
        name: 'sipAddress (lone surrogate)',
        text: encodeQueueMessage(create('h-sip', { sipAddress: `sip:h-sip${lone}@${topology.domain}` })),
        user: 'h-sip',
        pointer: '#/sipAddress',
      },
      {
        name: 'sipAddress (long)',
        text: JSON.stringify(create('h-long', { sipAddress: `sip:${long}@${topology.domain}` })),
        user: 'h-long',
        pointer: '#/sipAddress',
      },
      { name: 'not base64', text: `not base64, not JSON: ${topology.domain}`, user: 'h-text', pointer: '#' },
    ];
    const sent: Array<(typeof hostile)[number] & { messageId: string }> = [];
    for (const message of hostile) sent.push({ ...message, messageId: (await queue.sendMessage(message.text)).messageId });

    const letters: any[] = [];
    await eventually(async () => {
      letters.push(
        ...(await drainQueue(env.queues, 'endpoint-create-poison')).filter((l) => sent.some((m) => m.messageId === l.messageId)),
      );
      return letters.length === sent.length ? true : undefined;
    }, 30_000);
    for (const message of sent) {
      const id = changeRequestIdForMessage('endpoint-create', message.messageId);
      const request = (await call('GET', `/change-requests/${id}`)).body;
      assert.deepEqual(
        [message.name, request.status, request.actor, request.reason.code, request.reason.errors.map((e: any) => e.pointer)],
        [message.name, 'rejected', 'queue:endpoint-create', 'invalid_message', [message.pointer]],
      );
      const letter = letters.find((l) => l.messageId === message.messageId);
      assert.deepEqual([message.name, letter.reason, letter.errors], [message.name, 'invalid_message', request.reason.errors]);
      assert.ok(letter.description.length > 0, 'the poison message says why');
      const records = (await call('GET', `/audit?changeRequest=${id}`)).body.items;
      assert.deepEqual(
        records.map((r: any) => [r.action, r.outcome.code]),
        [['change-request.invalid', 'invalid_message']],
      );
    }

    for (const user of users) {
      const { messageId } = await queue.sendMessage(encodeQueueMessage(create(user)));
      const id = changeRequestIdForMessage('endpoint-create', messageId);
      const request = await eventually(async () => {
        const response = await call('GET', `/change-requests/${id}`);
        return response.status === 200 && response.body.status !== 'accepted' ? response.body : undefined;
      });
      assert.deepEqual([user, request.status], [user, 'applied']);
    }
  });

  it('manages the topology: audited PUT/DELETE with 201, 200, 204, 404 and 409', async () => {
    const domain = aUniqueDomain();
    const pool = `pc.${domain}`;
    const user = `sip:legacy@${domain}`;
    const correlationId = aCorrelationId();
    const headers = correlated(correlationId);

    const added = await call('PUT', `/topology/sip-domains/${domain}`, undefined, headers);
    const again = await call('PUT', `/topology/sip-domains/${domain}`, undefined, headers);
    const registered = await call('PUT', `/topology/pools/${pool}`, { defaultEndpointSipAddress: `sip:pcdefault@${domain}` }, headers);
    const userAdded = await call('PUT', `/topology/users/${pathOf(user)}`, { displayName: 'Legacy user' }, headers);
    const domainInUse = await call('DELETE', `/topology/sip-domains/${domain}`, undefined, headers);
    const removedUser = await call('DELETE', `/topology/users/${pathOf(user)}`, undefined, headers);
    const retired = await call('DELETE', `/topology/pools/${pool}`, undefined, headers);
    const removed = await call('DELETE', `/topology/sip-domains/${domain}`, undefined, headers);
    const missing = await call('DELETE', `/topology/sip-domains/${domain}`, undefined, headers);

    assert.deepEqual([added.status, again.status, registered.status, userAdded.status], [201, 200, 201, 201]);
    assert.equal(registered.body.defaultEndpoint.sipAddress, `sip:pcdefault@${domain}`);
    assert.deepEqual([domainInUse.status, domainInUse.body.code], [409, 'sip_domain_in_use']);
    assert.deepEqual([removedUser.status, retired.status, removed.status, missing.status], [204, 204, 204, 404]);
    assert.deepEqual(
      (await auditUnder(call, correlationId)).map((r) => [r.action, r.subject]),
      [
        ['sip-domain.removed', `sip-domain:${domain}`],
        ['pool.retired', `pool:${pool}`],
        ['directory-user.removed', user],
        ['sip-domain.remove-rejected', `sip-domain:${domain}`],
        ['directory-user.added', user],
        ['pool.registered', `pool:${pool}`],
        ['sip-domain.added', `sip-domain:${domain}`],
      ],
    );
    const topology = (await call('GET', '/topology')).body;
    assert.deepEqual(
      [
        topology.sipDomains.filter((d: any) => d.name === domain),
        topology.pools.filter((p: any) => p.fqdn === pool),
        topology.users.filter((u: any) => u.sipAddress === user),
      ],
      [[], [], []],
    );
  });

  it('audits a topology change refused by a rule (409), visible by type; a schema refusal (400) writes nothing', async () => {
    const topology = await aTopology(call);
    const correlationId = aCorrelationId();
    const headBefore = async () => (await env.dependencies.directory.snapshot({})).head;

    const head = await headBefore();
    const malformed = await call('PUT', `/topology/pools/pc9.${topology.domain}`, { defaultEndpointSipAddress: 'not a sip address' });
    assert.deepEqual([malformed.status, malformed.body.code], [400, 'validation_failed']);
    assert.deepEqual(await headBefore(), head, 'a 400 writes no audit record');

    const refused = await call('DELETE', `/topology/sip-domains/${topology.domain}`, undefined, correlated(correlationId));
    assert.deepEqual([refused.status, refused.body.code], [409, 'sip_domain_in_use']);

    const records = (await call('GET', `/audit?type=sip-domain.remove-rejected&correlation=${correlationId}`)).body.items;
    assert.deepEqual(
      records.map((r: any) => [r.action, r.subject, r.correlationId, r.outcome.status, r.outcome.code, r.before?.name, r.after?.name]),
      [
        [
          'sip-domain.remove-rejected',
          `sip-domain:${topology.domain}`,
          correlationId,
          'rejected',
          'sip_domain_in_use',
          topology.domain,
          topology.domain,
        ],
      ],
    );
    const events = (await publishedEventsAbout(env, `sip-domain:${topology.domain}`)).filter((e) => e.id === records[0].id);
    assert.deepEqual(
      events.map((e: any) => e.type),
      ['pchat.sip-domain.remove-rejected.v1'],
    );
  });

  it('filters and pages the audit log and the endpoint list', async () => {
    const topology = await aTopology(call, { pools: 2 });
    const correlationId = aCorrelationId();
    const chat = (n: number) => topology.address(`chat${n}`);
    const requests = [
      aCreateRequest({ sipAddress: chat(1), poolFqdn: topology.pool(0) }),
      aCreateRequest({ sipAddress: chat(2), poolFqdn: topology.pool(1) }),
      aCreateRequest({ sipAddress: chat(3), poolFqdn: topology.pool(0) }),
      aDeleteRequest({ sipAddress: chat(1) }),
      aCreateRequest({ sipAddress: chat(3), poolFqdn: topology.pool(0) }),
      aDeleteRequest({ sipAddress: topology.address('ghost') }),
    ];
    const finals = [];
    for (const request of requests) finals.push(await submitAndSettle(call, request, correlated(correlationId)));
    assert.deepEqual(
      finals.map((f) => f.reason?.code ?? f.status),
      ['applied', 'applied', 'pool_has_endpoint', 'applied', 'applied', 'endpoint_not_found'],
    );

    const firstPage = await call('GET', `/audit?correlation=${correlationId}&limit=3`);
    const secondPage = await call('GET', `/audit?correlation=${correlationId}&limit=3&cursor=${firstPage.body.nextCursor}`);
    const created = await call('GET', `/audit?correlation=${correlationId}&type=endpoint.created`);
    const wildcard = await call('GET', `/endpoints?sipAddress=${encodeURIComponent(`sip:chat*@${topology.domain}`)}`);
    const byPool = await call('GET', `/endpoints?poolFqdn=${topology.pool(1)}`);
    const endpointPages = [await call('GET', `/endpoints?sipAddress=${encodeURIComponent(`sip:*@${topology.domain}`)}&limit=2`)];
    for (let cursor = endpointPages[0]?.body.nextCursor; cursor; cursor = endpointPages.at(-1)?.body.nextCursor)
      endpointPages.push(
        await call('GET', `/endpoints?sipAddress=${encodeURIComponent(`sip:*@${topology.domain}`)}&limit=2&cursor=${cursor}`),
      );

    const pages = [...firstPage.body.items, ...secondPage.body.items];
    assert.deepEqual(
      pages.map((r: any) => r.changeRequestId),
      finals.map((f) => f.id).reverse(),
    );
    assert.deepEqual(
      pages.map((r: any) => r.sequence),
      finals.map((f) => f.auditSequence).reverse(),
    );
    assert.equal(secondPage.body.nextCursor, null);
    assert.deepEqual(
      created.body.items.map((r: any) => [r.action, r.subject]),
      [
        ['endpoint.created', chat(3)],
        ['endpoint.created', chat(2)],
        ['endpoint.created', chat(1)],
      ],
    );
    assert.deepEqual(wildcard.body.items.map((e: any) => e.sipAddress).sort(), [chat(2), chat(3)]);
    assert.deepEqual(byPool.body.items.map((e: any) => e.sipAddress).sort(), [chat(2), topology.defaultEndpoint(1)]);
    assert.deepEqual(
      endpointPages.map((page) => page.body.items.length),
      [2, 2],
    );
    assert.deepEqual(
      endpointPages.flatMap((page) => page.body.items.map((e: any) => e.sipAddress)).sort(),
      [chat(2), chat(3), ...topology.defaultEndpoints].sort(),
    );
  });

  it('verifies the audit log over HTTP: intact, every record checked, no checkpoints without a signing key', async () => {
    const topology = await aTopology(call);
    const newestBefore = (await call('GET', '/audit?limit=1')).body.items[0];

    const { status, body } = await call('GET', '/audit/verify');

    const newestAfter = (await call('GET', '/audit?limit=1')).body.items[0];
    assert.equal(newestAfter.sequence, newestBefore.sequence, 'nothing was written while the log was verified');
    assert.equal((await auditUnder(call, topology.correlationId))[0]?.sequence, newestBefore.sequence, "the newest record is this test's");
    assert.equal(status, 200);
    assert.deepEqual(
      [body.intact, body.firstBreak, body.recordsChecked, body.head.sequence],
      [true, null, newestBefore.sequence, newestBefore.sequence],
    );
    assert.deepEqual(body.checkpoints, { checked: 0, newest: null, signingKey: 'not configured', byKey: [] });
    assert.equal((await call('GET', '/audit/verify?full=yes')).status, 400);
  });

  it('exports the whole filtered log as NDJSON and as CSV, streamed, formula-safe', async () => {
    const topology = await aTopology(call);
    const correlationId = aCorrelationId();
    const finals = [
      await submitAndSettle(
        call,
        aCreateRequest({ sipAddress: topology.address('chat'), poolFqdn: topology.pool() }),
        correlated(correlationId),
      ),
      // An actor a spreadsheet would run as a formula.
      await submitAndSettle(call, aDeleteRequest({ sipAddress: topology.address('nobody-here') }), {
        ...correlated(correlationId),
        authorization: `Bearer ${FORMULA_PRINCIPAL.key}`,
      }),
      await submitAndSettle(
        call,
        aCreateRequest({ sipAddress: topology.address('other'), poolFqdn: topology.pool() }),
        correlated(correlationId),
      ),
    ];
    assert.deepEqual(
      finals.map((f) => f.reason?.code ?? f.status),
      ['applied', 'endpoint_not_found', 'pool_has_endpoint'],
    );
    const everything = await auditUnder(call, correlationId);

    const ndjson = await fetch(`${env.baseUrl}/audit?format=ndjson&correlation=${correlationId}`, { headers: auditorHeaders() });
    assert.equal(ndjson.status, 200);
    assert.equal(ndjson.headers.get('content-type'), 'application/x-ndjson; charset=utf-8');
    assert.match(ndjson.headers.get('content-disposition') ?? '', /^attachment; filename="audit-.*\.ndjson"$/);
    const lines = (await ndjson.text())
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.deepEqual(
      lines.map((r) => r.changeRequestId),
      finals.map((f) => f.id).reverse(),
    );
    assert.deepEqual(lines, everything);

    const csv = await fetch(`${env.baseUrl}/audit?format=csv&outcome=rejected&correlation=${correlationId}`, {
      headers: auditorHeaders(),
    });
    assert.equal(csv.headers.get('content-type'), 'text/csv; charset=utf-8');
    const text = await csv.text();
    const cell = (value: unknown) => (value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value));
    const row = (record: Record<string, any> | undefined, actor: string) =>
      [
        record?.sequence,
        record?.time,
        actor,
        record?.action,
        record?.subject,
        record?.changeRequestId,
        correlationId,
        record?.causationId,
        'rejected',
        record?.outcome.code,
        record?.outcome.message,
        record?.before,
        record?.after,
        record?.id,
        record?.previousHash,
        record?.hash,
      ].map(cell);
    const [poolTaken, formula] = everything;
    assert.deepEqual(parseCsv(text), [
      'sequence,time,actor,action,subject,changeRequestId,correlationId,causationId,outcome,code,message,before,after,id,previousHash,hash'.split(
        ',',
      ),
      row(poolTaken, env.principals.all),
      // The formula is defused with a leading apostrophe.
      row(formula, `'=HYPERLINK("http://evil")`),
    ]);
    assert.ok(text.includes(`,"'=HYPERLINK(""http://evil"")",`), 'and quoted');

    const paged = await call('GET', '/audit?format=csv&cursor=abc');
    assert.deepEqual([paged.status, paged.body.errors[0].pointer], [400, '#/cursor']);
    const limited = await call('GET', '/audit?format=ndjson&limit=5');
    assert.deepEqual([limited.status, limited.body.errors[0].pointer], [400, '#/limit']);
  });

  it('filters the audit log by outcome and by change request', async () => {
    const topology = await aTopology(call);
    const correlationId = aCorrelationId();
    const address = topology.address('chat');
    const finals = [];
    for (const request of [
      aCreateRequest({ sipAddress: address, poolFqdn: topology.pool() }),
      aCreateRequest({ sipAddress: address, poolFqdn: topology.pool() }),
      aDeleteRequest({ sipAddress: topology.address('ghost') }),
    ])
      finals.push(await submitAndSettle(call, request, correlated(correlationId)));

    const rejected = (await call('GET', `/audit?outcome=rejected&correlation=${correlationId}`)).body.items;
    const one = (await call('GET', `/audit?changeRequest=${finals[1]?.id}`)).body.items;
    const bad = await call('GET', '/audit?outcome=maybe');

    assert.deepEqual(
      rejected.map((r: any) => [r.changeRequestId, r.outcome.status, r.outcome.code]),
      [
        [finals[2]?.id, 'rejected', 'endpoint_not_found'],
        [finals[1]?.id, 'rejected', 'sip_address_held_by_endpoint'],
      ],
    );
    assert.deepEqual(
      one.map((r: any) => r.id),
      [rejected[1].id],
    );
    assert.deepEqual([bad.status, bad.body.errors[0].pointer], [400, '#/outcome']);
  });
});
