import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeQueueMessage } from '../../shared/adapters/transportRules';
import type { Composition } from '../../shared/composition/compose';
import { apiClient, drainQueue, eventually, settled, startE2EEnvironment, type E2EEnvironment } from '../support/localHost';

let env: E2EEnvironment;
const call = (...args: Parameters<ReturnType<typeof apiClient>>) => apiClient(env.baseUrl)(...args);

const sip = (user: string) => `sip:${user}@contoso.com`;
/** Committing an endpoint at this address always fails, as if storage refused that one write. */
const DOOMED = sip('doomed');

/** The dependencies with a directory whose commits fail for any write that touches DOOMED. */
function withDoomedAddress(composition: Composition): Composition {
  const { directory } = composition;
  return {
    ...composition,
    directory: {
      snapshot: (reads) => directory.snapshot(reads),
      commit: async (change) => {
        if (change.writes.some((write) => write.type === 'putHolder' && write.holder.sipAddress === DOOMED))
          throw new Error('simulated storage fault');
        return directory.commit(change);
      },
    },
  };
}

async function auditFor(subject: string): Promise<Array<Record<string, any>>> {
  return (await call('GET', `/audit?subject=${encodeURIComponent(subject)}&limit=100`)).body.items;
}

async function registerPool(fqdn: string): Promise<void> {
  assert.equal(
    (await call('PUT', `/topology/pools/${fqdn}`, { defaultEndpointSipAddress: sip(`default-${fqdn.split('.')[0]}`) })).status,
    201,
  );
}

describe('reliability over HTTP on the local host', () => {
  before(async () => {
    env = await startE2EEnvironment({ adapt: withDoomedAddress });
  });
  after(async () => {
    await env.stop();
  });

  describe('Idempotency-Key', () => {
    const request = { operation: 'create', sipAddress: sip('keyed'), poolFqdn: 'pcpool.contoso.com' };

    it('a retry returns the original 202 (same id, same status); a different body under the key is 422; a malformed key is 400', async () => {
      const first = await call('POST', '/change-requests', request, { 'idempotency-key': 'order-4711' });
      const retry = await call(
        'POST',
        '/change-requests',
        { poolFqdn: 'pcpool.contoso.com', sipAddress: 'SIP:Keyed@Contoso.com', operation: 'create' },
        { 'idempotency-key': '"order-4711"' },
      );

      assert.equal(first.status, 202);
      assert.equal(retry.status, 202);
      assert.deepEqual(retry.body, first.body);
      assert.equal(retry.body.status, 'accepted');
      assert.equal(retry.headers.get('location'), first.headers.get('location'));
      assert.equal(retry.headers.get('idempotent-replayed'), 'true');
      assert.equal(first.headers.get('idempotent-replayed'), null);

      const reused = await call(
        'POST',
        '/change-requests',
        { ...request, displayName: 'Something else' },
        { 'idempotency-key': 'order-4711' },
      );
      assert.equal(reused.status, 422);
      assert.equal(reused.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      assert.equal(reused.body.code, 'idempotency_key_reused');
      assert.deepEqual(
        reused.body.errors.map((e: any) => [e.pointer, e.location]),
        [['#/idempotency-key', 'header']],
      );

      const malformed = await call('POST', '/change-requests', request, { 'idempotency-key': 'has spaces in it' });
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.errors[0].pointer, '#/idempotency-key');

      const final = await settled(env.baseUrl, first.headers.get('location') as string);
      assert.equal(final.status, 'applied');
      assert.deepEqual(
        (await auditFor(sip('keyed'))).map((r) => r.changeRequestId),
        [first.body.id],
        'one request, one audit record',
      );
    });

    it('ten simultaneous retries with one key while the first is still being admitted create one request', async () => {
      const responses = await Promise.all(
        Array.from({ length: 10 }, () =>
          call('POST', '/change-requests', { operation: 'delete', sipAddress: sip('keyed') }, { 'idempotency-key': 'delete-4712' }),
        ),
      );
      assert.deepEqual(
        responses.map((r) => r.status),
        Array(10).fill(202),
      );
      assert.equal(new Set(responses.map((r) => r.body.id)).size, 1);
      assert.equal(responses.filter((r) => r.headers.get('idempotent-replayed') === null).length, 1);
      const final = await settled(env.baseUrl, responses[0]?.headers.get('location') as string);
      assert.equal(final.status, 'applied');
      assert.equal((await auditFor(sip('keyed'))).length, 2, 'the create and this one delete');
    });
  });

  it('a create and a delete each delivered three times take effect once: one audit record and one event id each', async () => {
    await drainQueue(env.queues, 'audit-events');
    const create = await call('POST', '/change-requests', {
      operation: 'create',
      sipAddress: sip('triple'),
      poolFqdn: 'pcpool2.contoso.com',
    });
    const createMessages = await deliverTwiceMore('endpoint-create', create.body.id);
    assert.equal((await settled(env.baseUrl, create.headers.get('location') as string)).status, 'applied');
    const remove = await call('POST', '/change-requests', { operation: 'delete', sipAddress: sip('triple') });
    const deleteMessages = await deliverTwiceMore('endpoint-delete', remove.body.id);
    assert.equal((await settled(env.baseUrl, remove.headers.get('location') as string)).status, 'applied');
    assert.deepEqual([createMessages, deleteMessages], [3, 3]);

    // Let every copy be processed, then count.
    await eventually(async () =>
      (await queueLength('endpoint-create')) + (await queueLength('endpoint-delete')) === 0 ? true : undefined,
    );
    const records = await auditFor(sip('triple'));
    assert.deepEqual(
      records.map((r) => [r.action, r.changeRequestId]),
      [
        ['endpoint.deleted', remove.body.id],
        ['endpoint.created', create.body.id],
      ],
    );
    const events = (await drainQueue(env.queues, 'audit-events')).filter((e) => e.subject === sip('triple'));
    assert.deepEqual([...new Set(events.map((e) => e.id))].sort(), records.map((r) => r.id).sort());
    assert.equal((await call('GET', `/endpoints/${encodeURIComponent(sip('triple'))}`)).status, 404);
  });

  it('a message that keeps failing ends in the poison queue, and its request is settled as failed with the reason, audited and announced', async () => {
    const accepted = await call('POST', '/change-requests', { operation: 'create', sipAddress: DOOMED, poolFqdn: 'pcpool2.contoso.com' });
    assert.equal(accepted.status, 202);

    const final = await settled(env.baseUrl, accepted.headers.get('location') as string, 30_000);
    assert.equal(final.status, 'failed');
    assert.equal(final.reason.code, 'processing_failed');
    assert.match(final.reason.message, /all 5 deliveries/);
    const poisoned = await eventually(async () => {
      const letters = await drainQueue(env.queues, 'endpoint-create-poison');
      return letters.find((letter) => letter.changeRequestId === accepted.body.id);
    });
    assert.equal(poisoned.sipAddress, DOOMED);

    const [record] = await auditFor(DOOMED);
    assert.deepEqual(
      [record?.action, record?.changeRequestId, record?.outcome.code],
      ['change-request.failed', accepted.body.id, 'processing_failed'],
    );
    assert.equal((await call('GET', `/endpoints/${encodeURIComponent(DOOMED)}`)).status, 404, 'nothing half-written');
  });

  describe('races', () => {
    const createAll = (requests: Array<Record<string, unknown>>) =>
      Promise.all(requests.map((request) => call('POST', '/change-requests', request)));
    // One poller at a time: fifty polling loops would mostly measure themselves.
    const settleAll = async (responses: Array<{ headers: Headers }>) => {
      const finals = [];
      for (const response of responses) finals.push(await settled(env.baseUrl, response.headers.get('location') as string, 60_000));
      return finals;
    };
    const outcomes = (finals: Array<Record<string, any>>) => finals.map((f) => (f.status === 'applied' ? 'applied' : f.reason.code)).sort();

    it('50 simultaneous creates of one address: exactly one applied, 49 rejected sip_address_held_by_endpoint', async () => {
      await registerPool('racea.contoso.com');
      const responses = await createAll(
        Array.from({ length: 50 }, (_, i) => ({
          operation: 'create',
          sipAddress: sip('contested'),
          poolFqdn: 'racea.contoso.com',
          displayName: `attempt ${i}`,
        })),
      );
      assert.deepEqual(
        responses.map((r) => r.status),
        Array(50).fill(202),
      );

      const finals = await settleAll(responses);
      assert.deepEqual(outcomes(finals), ['applied', ...Array(49).fill('sip_address_held_by_endpoint')]);
      const winner = finals.find((f) => f.status === 'applied');
      const endpoint = (await call('GET', `/endpoints/${encodeURIComponent(sip('contested'))}`)).body;
      assert.equal(endpoint.changeRequestId, winner?.id);
      const records = await auditFor(sip('contested'));
      assert.equal(records.length, 50);
      assert.deepEqual(new Set(records.map((r) => r.changeRequestId)), new Set(finals.map((f) => f.id)));
    });

    it('50 simultaneous creates of different addresses on one pool: exactly one applied, 49 rejected pool_has_endpoint', async () => {
      await registerPool('raceb.contoso.com');
      const responses = await createAll(
        Array.from({ length: 50 }, (_, i) => ({ operation: 'create', sipAddress: sip(`racer${i}`), poolFqdn: 'raceb.contoso.com' })),
      );
      assert.deepEqual(
        responses.map((r) => r.status),
        Array(50).fill(202),
      );

      const finals = await settleAll(responses);
      assert.deepEqual(outcomes(finals), ['applied', ...Array(49).fill('pool_has_endpoint')]);
      const listed = (await call('GET', '/endpoints?poolFqdn=raceb.contoso.com')).body.items.filter((e: any) => !e.isDefault);
      assert.deepEqual(
        listed.map((e: any) => e.changeRequestId),
        [finals.find((f) => f.status === 'applied')?.id],
      );
    });
  });
});

/**
 * Puts two more copies of the message the API sent for `changeRequestId` on its queue, so it is
 * delivered three times; returns the number of deliveries.
 */
async function deliverTwiceMore(queueName: string, changeRequestId: string): Promise<number> {
  const { body: stored } = await call('GET', `/change-requests/${changeRequestId}`);
  const message = { schemaVersion: 1, ...stored.request, changeRequestId, correlationId: stored.correlationId, actor: stored.actor };
  const queue = env.queues.getQueueClient(queueName);
  for (let copy = 0; copy < 2; copy++) await queue.sendMessage(encodeQueueMessage(message));
  return 3;
}

async function queueLength(name: string): Promise<number> {
  const properties = await env.queues.getQueueClient(name).getProperties();
  return properties.approximateMessagesCount ?? 0;
}
