import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Destination, OutgoingMessage } from '../../shared/application/ports/messageBus';
import type { Composition } from '../../shared/composition/compose';
import { aTopology, publishedEventsAbout, settledRequest, submitAndSettle } from '../support/apiData';
import { aCreateRequest, aDeleteRequest } from '../support/builders';
import { apiClient, eventually, startE2EEnvironment, type ApiCall, type E2EEnvironment } from '../support/localHost';

let env: E2EEnvironment;
const as =
  (key: string): ApiCall =>
  (...args) =>
    apiClient(env.baseUrl, key)(...args);
const operator: ApiCall = (...args) => as(env.keys.operator)(...args);
const auditor: ApiCall = (...args) => as(env.keys.auditor)(...args);
const submitter: ApiCall = (...args) => as(env.keys.submitter)(...args);
const all: ApiCall = (...args) => as(env.keys.all)(...args);

const OTHER_SUBMITTER = { principal: 'e2e-other-submitter', roles: ['submitter'], key: randomBytes(32).toString('base64url') };
const other: ApiCall = (...args) => as(OTHER_SUBMITTER.key)(...args);

/** Messages about these addresses are held back (not sent) until the test releases them. */
const heldAddresses = new Set<string>();
const heldMessages: Array<{ destination: Destination; message: OutgoingMessage; about: string }> = [];
let realSend: (destination: Destination, message: OutgoingMessage) => Promise<void>;

/** A bus that holds back the change messages about held addresses, as a slow transport would. */
function holdingMessages(composition: Composition): Composition {
  const { bus } = composition;
  realSend = (destination, message) => bus.send(destination, message);
  return {
    ...composition,
    bus: {
      ...bus,
      send: async (destination, message) => {
        const about = [...heldAddresses].find((address) => JSON.stringify(message.body).includes(address));
        if (about !== undefined && destination !== 'auditEvents') heldMessages.push({ destination, message, about });
        else await bus.send(destination, message);
      },
      deadLetter: (source, letter) => bus.deadLetter(source, letter),
      checkReachable: (signal) => bus.checkReachable(signal),
    },
  };
}

/** Sends the held messages of one change request, as the transport finally delivers them. */
async function release(changeRequestId: string): Promise<void> {
  for (const held of heldMessages.filter((h) => JSON.stringify(h.message.body).includes(changeRequestId))) {
    await realSend(held.destination, held.message);
  }
}

/** Waits until the endpoint-create queue holds no message (every one received and deleted). */
async function createQueueDrained(): Promise<void> {
  const queue = env.queues.getQueueClient('endpoint-create');
  await eventually(async () => ((await queue.getProperties()).approximateMessagesCount === 0 ? true : undefined));
}

const listOf = async (call: ApiCall, query: string) => {
  const response = await call('GET', `/change-requests?${query}`);
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return response.body as { items: Array<Record<string, any>>; nextCursor: string | null };
};

describe('change requests as a collection, and cancel, over HTTP on the local host', () => {
  before(async () => {
    env = await startE2EEnvironment({ loadDemoTopology: false, adapt: holdingMessages, extraKeys: [OTHER_SUBMITTER] });
  });
  after(async () => {
    await env.stop();
  });

  it('lists newest first, filtered by address, status, operation and time, and pages with a cursor', async () => {
    const topology = await aTopology(operator);
    const address = topology.address('listed');
    const created = await submitAndSettle(submitter, aCreateRequest({ sipAddress: address, poolFqdn: topology.pool() }));
    const again = await submitAndSettle(submitter, aCreateRequest({ sipAddress: address, poolFqdn: topology.pool() }));
    const deleted = await submitAndSettle(submitter, aDeleteRequest({ sipAddress: address }));
    assert.deepEqual([created.status, again.status, deleted.status], ['applied', 'rejected', 'applied']);

    const byAddress = await listOf(operator, `sipAddress=${encodeURIComponent(address)}`);
    assert.deepEqual(
      byAddress.items.map((item) => item.id),
      [deleted.id, again.id, created.id],
    );
    assert.equal(byAddress.nextCursor, null);
    // Each item is the request exactly as GET /api/change-requests/{id} answers it.
    assert.deepEqual(byAddress.items[0], (await operator('GET', `/change-requests/${deleted.id}`)).body);

    const rejected = await listOf(auditor, `sipAddress=${encodeURIComponent(address)}&status=rejected`);
    assert.deepEqual(
      rejected.items.map((item) => item.id),
      [again.id],
    );
    const deletes = await listOf(operator, `operation=delete&sipAddress=${encodeURIComponent(address)}`);
    assert.deepEqual(
      deletes.items.map((item) => item.id),
      [deleted.id],
    );
    const applied = await listOf(operator, `status=applied&limit=1000`);
    assert.ok(applied.items.some((item) => item.id === created.id) && applied.items.every((item) => item.status === 'applied'));

    // since/until bound acceptedAt, both inclusive.
    const window = await listOf(operator, `sipAddress=${encodeURIComponent(address)}&since=${again.acceptedAt}&until=${again.acceptedAt}`);
    assert.deepEqual(
      window.items.map((item) => item.id),
      [again.id],
    );
    const since = await listOf(operator, `sipAddress=${encodeURIComponent(address)}&since=${again.acceptedAt}`);
    assert.deepEqual(
      since.items.map((item) => item.id),
      [deleted.id, again.id],
    );

    // Pages of one, each cursor continuing where the last page ended.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await listOf(operator, `sipAddress=${encodeURIComponent(address)}&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(page.items.length, 1);
      seen.push(page.items[0]!.id);
      cursor = page.nextCursor;
    } while (cursor !== null);
    assert.deepEqual(seen, [deleted.id, again.id, created.id]);
  });

  it('refuses bad filters with a problem naming the field and the rule', async () => {
    const cases: Array<[string, string]> = [
      ['status=done', '#/status'],
      ['limit=0', '#/limit'],
      ['limit=1001', '#/limit'],
      ['since=yesterday', '#/since'],
      ['since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z', '#/since'],
      ['operation=update', '#/operation'],
      ['sipAddress=%ED%A0%80', '#/sipAddress'],
      ['cursor=bm90LW91cnM', '#/cursor'],
      ['colour=blue', '#'],
    ];
    for (const [query, pointer] of cases) {
      const response = await operator('GET', `/change-requests?${query}`);
      assert.equal(response.status, 400, query);
      assert.equal(response.body.code, 'validation_failed', query);
      assert.ok(
        response.body.errors.some((error: { pointer: string }) => error.pointer.startsWith(pointer)),
        `${query}: ${JSON.stringify(response.body.errors)}`,
      );
    }
    // A cursor issued for one listing is not accepted by another.
    const topology = await aTopology(operator);
    const address = topology.address('cursored');
    await submitAndSettle(all, aCreateRequest({ sipAddress: address, poolFqdn: topology.pool() }));
    await submitAndSettle(all, aDeleteRequest({ sipAddress: address }));
    const page = await listOf(operator, `sipAddress=${encodeURIComponent(address)}&limit=1`);
    assert.ok(page.nextCursor);
    assert.equal((await operator('GET', `/change-requests?status=applied&cursor=${page.nextCursor}`)).status, 400);
  });

  it('a submitter lists only its own requests; operators and auditors list everyone’s; a reader may not list', async () => {
    const topology = await aTopology(operator);
    const mine = await submitAndSettle(submitter, aCreateRequest({ sipAddress: topology.address('mine'), poolFqdn: topology.pool() }));
    const theirs = await submitAndSettle(other, aCreateRequest({ sipAddress: topology.address('theirs'), poolFqdn: topology.pool() }));

    const mineListed = await listOf(submitter, 'limit=1000');
    assert.ok(mineListed.items.some((item) => item.id === mine.id));
    assert.ok(mineListed.items.every((item) => item.actor === env.principals.submitter));
    const theirsListed = await listOf(other, `sipAddress=${encodeURIComponent(topology.address('mine'))}`);
    assert.deepEqual(theirsListed.items, []);
    const theirsOwn = await listOf(other, 'limit=1000');
    assert.deepEqual(
      theirsOwn.items.map((item) => item.id),
      [theirs.id],
    );

    for (const call of [operator, auditor]) {
      const listed = await listOf(call, 'limit=1000');
      assert.ok(listed.items.some((item) => item.id === mine.id) && listed.items.some((item) => item.id === theirs.id));
    }
    assert.equal((await as(env.keys.reader)('GET', '/change-requests')).status, 403);
    assert.equal((await apiClient(env.baseUrl)('GET', '/change-requests')).status, 401);
  });

  it('cancel settles an accepted request as canceled, audited with its event; its message changes nothing; the next in line applies', async () => {
    const topology = await aTopology(operator);
    const address = topology.address('withdrawn');
    heldAddresses.add(address);
    const first = await submitter(
      'POST',
      '/change-requests',
      aCreateRequest({ sipAddress: address, poolFqdn: topology.pool(), displayName: 'First' }),
    );
    const second = await submitter(
      'POST',
      '/change-requests',
      aCreateRequest({ sipAddress: address, poolFqdn: topology.pool(), displayName: 'Second' }),
    );
    assert.deepEqual([first.status, second.status], [202, 202]);

    const canceled = await submitter('POST', `/change-requests/${first.body.id}/cancel`);
    assert.equal(canceled.status, 200, JSON.stringify(canceled.body));
    assert.equal(canceled.body.status, 'canceled');
    assert.equal(canceled.body.reason.code, 'canceled');
    assert.equal(typeof canceled.body.reason.message, 'string');
    assert.deepEqual((await operator('GET', `/change-requests/${first.body.id}`)).body, canceled.body);
    assert.deepEqual(
      (await listOf(operator, `status=canceled&sipAddress=${encodeURIComponent(address)}`)).items.map((item) => item.id),
      [first.body.id],
    );
    assert.deepEqual(
      (await listOf(operator, `status=accepted&sipAddress=${encodeURIComponent(address)}`)).items.map((item) => item.id),
      [second.body.id],
    );

    const audit = (await auditor('GET', `/audit?changeRequest=${first.body.id}`)).body.items;
    assert.deepEqual(
      audit.map((record: Record<string, any>) => [record.action, record.actor, record.subject]),
      [['change-request.canceled', env.principals.submitter, address]],
    );
    const events = await publishedEventsAbout(env, address);
    assert.ok(events.some((event) => event.type === 'pchat.change-request.canceled.v1' && event.data.changeRequestId === first.body.id));

    // The canceled request's message arrives late: it is left alone, and writes nothing.
    await release(first.body.id);
    await createQueueDrained();
    assert.deepEqual((await operator('GET', `/change-requests/${first.body.id}`)).body, canceled.body);
    assert.equal((await auditor('GET', `/audit?changeRequest=${first.body.id}`)).body.items.length, 1);
    assert.equal((await operator('GET', `/endpoints/${encodeURIComponent(address)}`)).status, 404);

    // The request after it in its address's line goes on (had the first applied, it would be rejected: the address taken).
    await release(second.body.id);
    const next = await settledRequest(operator, second.body.id);
    assert.equal(next.status, 'applied');
    assert.equal((await operator('GET', `/endpoints/${encodeURIComponent(address)}`)).body.displayName, 'Second');
  });

  it('a settled request answers 409 change_request_settled with its status; unknown and another’s are 404; operators cancel any', async () => {
    const topology = await aTopology(operator);
    const address = topology.address('settled');
    const applied = await submitAndSettle(submitter, aCreateRequest({ sipAddress: address, poolFqdn: topology.pool() }));
    const conflict = await submitter('POST', `/change-requests/${applied.id}/cancel`);
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.code, 'change_request_settled');
    // RFC 9457's `status` stays the HTTP status; the settled status is an extension member.
    assert.equal(conflict.body.status, 409);
    assert.equal(conflict.body.changeRequestStatus, 'applied');
    assert.equal(conflict.headers.get('content-type'), 'application/problem+json; charset=utf-8');

    const unknown = await operator('POST', `/change-requests/${randomUUID()}/cancel`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'change_request_not_found');
    assert.equal((await operator('POST', '/change-requests/not-a-uuid/cancel')).status, 400);

    const held = topology.address('held');
    heldAddresses.add(held);
    const waiting = await submitter('POST', '/change-requests', aCreateRequest({ sipAddress: held, poolFqdn: topology.pool() }));
    // Another submitter learns nothing about it: the same 404 as an unknown id. Auditors and readers may not cancel.
    const othersCancel = await other('POST', `/change-requests/${waiting.body.id}/cancel`);
    assert.equal(othersCancel.status, 404);
    assert.equal(othersCancel.body.code, 'change_request_not_found');
    assert.equal((await auditor('POST', `/change-requests/${waiting.body.id}/cancel`)).status, 403);
    assert.equal((await as(env.keys.reader)('POST', `/change-requests/${waiting.body.id}/cancel`)).status, 403);

    const byOperator = await operator('POST', `/change-requests/${waiting.body.id}/cancel`);
    assert.equal(byOperator.status, 200);
    assert.equal(byOperator.body.status, 'canceled');
    const audit = (await auditor('GET', `/audit?changeRequest=${waiting.body.id}`)).body.items;
    assert.equal(audit[0].actor, env.principals.operator);

    // A second cancel is not a no-op success: it says the request is settled, and how.
    const twice = await all('POST', `/change-requests/${waiting.body.id}/cancel`);
    assert.equal(twice.status, 409);
    assert.equal(twice.body.changeRequestStatus, 'canceled');
    await release(waiting.body.id);
  });
});
