import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeQueueMessage } from '../../shared/adapters/transportRules';
import type { Composition } from '../../shared/composition/compose';
import { aTopology, auditFor, pathOf, publishedEventsAbout, settledRequest, submitAndSettle } from '../support/apiData';
import { aCreateRequest, aDeleteRequest, uniqueLabel } from '../support/builders';
import { apiClient, drainQueue, eventually, startE2EEnvironment, type ApiCall, type E2EEnvironment } from '../support/localHost';

let env: E2EEnvironment;
const call: ApiCall = (...args) => apiClient(env.baseUrl, env.keys.all)(...args);

/** Committing an endpoint at one of these addresses always fails, as if storage refused that one write. */
const doomed = new Set<string>();

/** The dependencies with a directory whose commits fail for any write that puts a holder at a doomed address. */
function withDoomedAddresses(composition: Composition): Composition {
  const { directory } = composition;
  return {
    ...composition,
    directory: {
      snapshot: (reads, freshness) => directory.snapshot(reads, freshness),
      fits: (change) => directory.fits(change),
      commit: async (change) => {
        if (change.writes.some((write) => write.type === 'putHolder' && doomed.has(write.holder.sipAddress)))
          throw new Error('simulated storage fault');
        return directory.commit(change);
      },
    },
  };
}

describe('reliability over HTTP on the local host', () => {
  before(async () => {
    env = await startE2EEnvironment({ adapt: withDoomedAddresses, loadDemoTopology: false });
  });
  after(async () => {
    await env.stop();
  });

  describe('Idempotency-Key', () => {
    it('a retry returns the original 202 (same id, same status); a different body under the key is 422; a malformed key is 400', async () => {
      const topology = await aTopology(call);
      const address = topology.address('keyed');
      const request = aCreateRequest({ sipAddress: address, poolFqdn: topology.pool() });
      const key = uniqueLabel('order-');

      const first = await call('POST', '/change-requests', request, { 'idempotency-key': key });
      const retry = await call(
        'POST',
        '/change-requests',
        { poolFqdn: topology.pool().toUpperCase(), sipAddress: `SIP:Keyed@${topology.domain.toUpperCase()}`, operation: 'create' },
        { 'idempotency-key': `"${key}"` },
      );

      assert.deepEqual([first.status, retry.status], [202, 202]);
      assert.deepEqual(retry.body, first.body);
      assert.equal(retry.body.status, 'accepted');
      assert.equal(retry.headers.get('location'), first.headers.get('location'));
      assert.equal(retry.headers.get('idempotent-replayed'), 'true');
      assert.equal(first.headers.get('idempotent-replayed'), null);

      const reused = await call('POST', '/change-requests', { ...request, displayName: 'Something else' }, { 'idempotency-key': key });
      assert.equal(reused.status, 422);
      assert.equal(reused.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      assert.equal(reused.body.code, 'idempotency_key_reused');
      assert.deepEqual(
        reused.body.errors.map((e: any) => [e.pointer, e.location]),
        [['#/idempotency-key', 'header']],
      );

      const malformed = await call('POST', '/change-requests', request, { 'idempotency-key': 'has spaces in it' });
      assert.deepEqual([malformed.status, malformed.body.errors[0].pointer], [400, '#/idempotency-key']);

      const final = await settledRequest(call, first.body.id);
      assert.equal(final.status, 'applied');
      assert.deepEqual(
        (await auditFor(call, address)).map((r) => r.changeRequestId),
        [first.body.id],
        'one request, one audit record',
      );
    });

    it('ten simultaneous retries with one key while the first is still being admitted create one request', async () => {
      const topology = await aTopology(call);
      const address = topology.address('keyed');
      const created = await submitAndSettle(call, aCreateRequest({ sipAddress: address, poolFqdn: topology.pool() }));
      const key = uniqueLabel('delete-');

      const responses = await Promise.all(
        Array.from({ length: 10 }, () =>
          call('POST', '/change-requests', aDeleteRequest({ sipAddress: address }), { 'idempotency-key': key }),
        ),
      );

      assert.deepEqual(
        responses.map((r) => r.status),
        Array(10).fill(202),
      );
      const id = responses[0]?.body.id;
      assert.deepEqual(
        responses.map((r) => r.body.id),
        Array(10).fill(id),
      );
      assert.equal(responses.filter((r) => r.headers.get('idempotent-replayed') === null).length, 1);
      const final = await settledRequest(call, id);
      assert.equal(final.status, 'applied');
      assert.deepEqual(
        (await auditFor(call, address)).map((r) => [r.action, r.changeRequestId]),
        [
          ['endpoint.deleted', id],
          ['endpoint.created', created.id],
        ],
      );
    });
  });

  it('a create and a delete each delivered three times take effect once: one audit record and one event id each', async () => {
    const topology = await aTopology(call);
    const address = topology.address('triple');
    const create = await call('POST', '/change-requests', aCreateRequest({ sipAddress: address, poolFqdn: topology.pool() }));
    await deliverTwiceMore('endpoint-create', create.body.id);
    assert.equal((await settledRequest(call, create.body.id)).status, 'applied');
    const remove = await call('POST', '/change-requests', aDeleteRequest({ sipAddress: address }));
    await deliverTwiceMore('endpoint-delete', remove.body.id);
    assert.equal((await settledRequest(call, remove.body.id)).status, 'applied');

    // Let every copy be processed, then count.
    await eventually(async () =>
      (await queueLength('endpoint-create')) + (await queueLength('endpoint-delete')) === 0 ? true : undefined,
    );
    const records = await auditFor(call, address);
    assert.deepEqual(
      records.map((r) => [r.action, r.changeRequestId]),
      [
        ['endpoint.deleted', remove.body.id],
        ['endpoint.created', create.body.id],
      ],
    );
    const events = await publishedEventsAbout(env, address);
    assert.deepEqual(
      events.map((e) => [e.id, e.type]).sort(),
      records.map((r) => [r.id, `pchat.${r.action}.v1`]).sort(),
      'each record published once, under its own id',
    );
    assert.equal((await call('GET', `/endpoints/${pathOf(address)}`)).status, 404);
  });

  it('a message that keeps failing ends in the poison queue, and its request is settled as failed with the reason, audited and announced', async () => {
    const topology = await aTopology(call);
    const address = topology.address('doomed');
    doomed.add(address);
    const request = aCreateRequest({ sipAddress: address, poolFqdn: topology.pool() });

    const accepted = await call('POST', '/change-requests', request);
    assert.equal(accepted.status, 202);

    const final = await settledRequest(call, accepted.body.id, 30_000);
    const reason = {
      code: 'processing_failed',
      message:
        'processing failed on all 5 deliveries of the message, which was set aside for operators (endpoint-create poison / dead-letter queue)',
    };
    assert.deepEqual([final.status, final.reason], ['failed', reason]);
    const poisoned = await eventually(async () => {
      const letters = (await drainQueue(env.queues, 'endpoint-create-poison')).filter(
        (letter) => letter.changeRequestId === accepted.body.id,
      );
      return letters.length ? letters : undefined;
    });
    assert.deepEqual(poisoned, [
      {
        schemaVersion: 1,
        ...request,
        changeRequestId: accepted.body.id,
        correlationId: final.correlationId,
        actor: env.principals.all,
        // The request's trace goes with its message (no tracestate was sent, so none is carried).
        traceparent: final.traceContext.traceparent,
      },
    ]);
    assert.deepEqual(Object.keys(final.traceContext), ['traceparent']);

    const records = await auditFor(call, address);
    assert.deepEqual(
      records.map((r) => [r.action, r.changeRequestId, r.outcome, r.sequence]),
      [['change-request.failed', accepted.body.id, { status: 'failed', ...reason }, final.auditSequence]],
    );
    assert.deepEqual(
      (await publishedEventsAbout(env, address)).map((e) => [e.id, e.type]),
      [[records[0]?.id, 'pchat.change-request.failed.v1']],
    );
    assert.equal((await call('GET', `/endpoints/${pathOf(address)}`)).status, 404, 'nothing half-written');
  });

  describe('races', () => {
    const createAll = (requests: unknown[]) => Promise.all(requests.map((request) => call('POST', '/change-requests', request)));
    // One poller at a time: fifty polling loops would mostly measure themselves.
    const settleAll = async (responses: Array<{ body: any }>) => {
      const finals = [];
      for (const response of responses) finals.push(await settledRequest(call, response.body.id, 60_000));
      return finals;
    };
    const outcomes = (finals: Array<Record<string, any>>) => finals.map((f) => (f.status === 'applied' ? 'applied' : f.reason.code)).sort();

    it('50 simultaneous creates of one address: exactly one applied, 49 rejected sip_address_held_by_endpoint', async () => {
      const topology = await aTopology(call);
      const address = topology.address('contested');
      const responses = await createAll(
        Array.from({ length: 50 }, (_, i) =>
          aCreateRequest({ sipAddress: address, poolFqdn: topology.pool(), displayName: `attempt ${i}` }),
        ),
      );
      assert.deepEqual(
        responses.map((r) => r.status),
        Array(50).fill(202),
      );

      const finals = await settleAll(responses);
      assert.deepEqual(outcomes(finals), ['applied', ...Array(49).fill('sip_address_held_by_endpoint')]);
      const winner = finals.find((f) => f.status === 'applied');
      const endpoint = (await call('GET', `/endpoints/${pathOf(address)}`)).body;
      assert.equal(endpoint.changeRequestId, winner?.id);
      const records = await auditFor(call, address);
      assert.deepEqual(
        records.map((r) => [r.changeRequestId, r.action]).sort(),
        finals.map((f) => [f.id, f === winner ? 'endpoint.created' : 'endpoint.create-rejected']).sort(),
        'one audit record per request',
      );
    });

    it('50 simultaneous creates of different addresses on one pool: exactly one applied, 49 rejected pool_has_endpoint', async () => {
      const topology = await aTopology(call);
      const responses = await createAll(
        Array.from({ length: 50 }, (_, i) => aCreateRequest({ sipAddress: topology.address(`racer${i}`), poolFqdn: topology.pool() })),
      );
      assert.deepEqual(
        responses.map((r) => r.status),
        Array(50).fill(202),
      );

      const finals = await settleAll(responses);
      assert.deepEqual(outcomes(finals), ['applied', ...Array(49).fill('pool_has_endpoint')]);
      const listed = (await call('GET', `/endpoints?poolFqdn=${topology.pool()}`)).body.items;
      const winner = finals.find((f) => f.status === 'applied');
      assert.deepEqual(
        listed.map((e: any) => [e.sipAddress, e.changeRequestId]).sort(),
        [
          [winner?.request.sipAddress, winner?.id],
          [topology.defaultEndpoint(), null],
        ].sort(),
      );
    });
  });
});

/** Puts two more copies of the message the API sent for `changeRequestId` on its queue, so it is delivered three times. */
async function deliverTwiceMore(queueName: string, changeRequestId: string): Promise<void> {
  const { body: stored } = await call('GET', `/change-requests/${changeRequestId}`);
  const message = { schemaVersion: 1, ...stored.request, changeRequestId, correlationId: stored.correlationId, actor: stored.actor };
  const queue = env.queues.getQueueClient(queueName);
  for (let copy = 0; copy < 2; copy++) await queue.sendMessage(encodeQueueMessage(message));
}

async function queueLength(name: string): Promise<number> {
  const properties = await env.queues.getQueueClient(name).getProperties();
  return properties.approximateMessagesCount ?? 0;
}
