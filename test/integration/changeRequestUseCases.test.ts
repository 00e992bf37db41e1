import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { uuidv7 } from '../../shared/adapters/system';
import type { CloudEvent } from '../../shared/application/events';
import { publishPendingEvents } from '../../shared/application/publishEvents';
import { addSipDomain, registerPool } from '../../shared/application/topology';
import { applyChangeRequest, type QueuedChangeRequest } from '../../shared/application/changeRequests/applyChangeRequest';
import { recordInvalidMessage } from '../../shared/application/changeRequests/recordInvalidMessage';
import { submitChangeRequest } from '../../shared/application/changeRequests/submitChangeRequest';
import { EndpointChangeMessageSchema } from '../../shared/application/changeRequests/messages';
import { Destination } from '../../shared/application/ports/messageBus';
import { redrive, OUTBOX_GRACE_MS } from '../../shared/application/redrive';
import { DEFAULT_DELIVERY_POLICY } from '../../shared/application/deliveryPolicy';
import { AuditAction, GENESIS_HEAD, hashAuditRecord, type AuditRecord } from '../../shared/domain/audit';
import { ChangeRequestStatus, type ChangeRequest, type ChangeRequestBody } from '../../shared/domain/changeRequest';
import { FailureCode, RejectionCode } from '../../shared/domain/codes';
import { UnprocessableError } from '../../shared/domain/errors';
import type { Fqdn, SipAddress } from '../../shared/domain/names';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { aQueuedCreate, fqdn, sip } from '../support/builders';
import { newStoreHarness, type StoreHarness } from '../support/storeHarness';

const admin = { actor: 'admin@contoso.com', correlationId: 'corr-topology' };
const CONCURRENCY = 50;

type Harness = StoreHarness;

let azurite: TestAzurite;

/** Use-case dependencies over a fresh Azurite table and an in-memory bus. */
function newHarness(): Promise<Harness> {
  return newStoreHarness(azurite.connectionString);
}

/** contoso.com with `pools` registered pools: pool1.contoso.com … (default endpoints sip:default<n>@contoso.com). */
async function seed(h: Harness, pools = 1): Promise<Fqdn[]> {
  await addSipDomain(h, admin, fqdn('contoso.com'));
  const names: Fqdn[] = [];
  for (let n = 1; n <= pools; n++) {
    const name = fqdn(`pool${n}.contoso.com`);
    await registerPool(h, admin, name, sip(`sip:default${n}@contoso.com`));
    names.push(name);
  }
  return names;
}

/** Every audit record, oldest first (pages through the whole log). */
async function wholeLog(h: Harness): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await h.auditSearch.page({ limit: 7, ...(cursor ? { cursor } : {}) });
    records.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return records.reverse();
}

const auditEvents = (h: Harness) =>
  h.bus.sent.filter((s) => s.destination === Destination.auditEvents).map((s) => s.message.body as CloudEvent);

/** The log is one unbroken chain: sequences 1..n, each record linked to and hashed over its predecessor, the head at its end. */
async function assertChainIntact(h: Harness): Promise<AuditRecord[]> {
  const log = await wholeLog(h);
  assert.deepEqual(
    log.map((r) => r.sequence),
    log.map((_, i) => i + 1),
  );
  let previous = GENESIS_HEAD.hash;
  for (const record of log) {
    assert.equal(record.previousHash, previous, `record ${record.sequence} links to its predecessor`);
    const { hash, ...unhashed } = record;
    assert.equal(hash, hashAuditRecord(unhashed), `record ${record.sequence} hashes its content`);
    previous = hash;
  }
  const last = log[log.length - 1] as AuditRecord;
  assert.deepEqual((await h.directory.snapshot({})).head, { sequence: last.sequence, hash: last.hash, time: last.time });
  return log;
}

// ---------------------------------------------------------------------------------------------

describe('change-request use cases on Azurite', () => {
  before(async () => {
    azurite = await startTestAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });

  describe('at-least-once in, exactly-once effect out', () => {
    it('applying the same queued change request twice yields one audit record and one event', async () => {
      const h = await newHarness();
      await seed(h);
      const command = aQueuedCreate('sip:chat@contoso.com', 'pool1.contoso.com');
      const first = await applyChangeRequest(h, command);
      const second = await applyChangeRequest(h, command);

      assert.deepEqual(second, first);
      assert.equal(first.status, ChangeRequestStatus.applied);
      const records = (await h.auditSearch.page({ subject: 'sip:chat@contoso.com', limit: 10 })).items;
      assert.equal(records.length, 1);
      const record = records[0] as AuditRecord;
      assert.equal(record.action, AuditAction.endpointCreated);
      assert.equal(record.changeRequestId, command.changeRequestId);
      assert.deepEqual(await h.queries.changeRequest(command.changeRequestId), { ...first, auditSequence: record.sequence });
      assert.deepEqual(
        auditEvents(h)
          .filter((e) => e.subject === 'sip:chat@contoso.com')
          .map((e) => e.id),
        [record.id],
      );
      assert.deepEqual(await h.queries.holder(sip('sip:chat@contoso.com')), {
        kind: 'endpoint',
        sipAddress: 'sip:chat@contoso.com',
        poolFqdn: 'pool1.contoso.com',
        displayName: null,
        isDefault: false,
        createdAt: first.completedAt,
        changeRequestId: command.changeRequestId,
      });
      assert.deepEqual(await h.outbox.pending(10), []);
    });

    it('concurrent redeliveries of one request still yield one audit record and one event', async () => {
      const h = await newHarness();
      await seed(h);
      const command = aQueuedCreate('sip:chat@contoso.com', 'pool1.contoso.com');
      const results = await Promise.all(Array.from({ length: 5 }, () => applyChangeRequest(h, command)));
      assert.deepEqual(new Set(results.map((r) => JSON.stringify(r))).size, 1);
      assert.equal(results[0]?.status, ChangeRequestStatus.applied);
      assert.equal((await h.auditSearch.page({ subject: 'sip:chat@contoso.com', limit: 10 })).items.length, 1);
      assert.equal(auditEvents(h).filter((e) => e.subject === 'sip:chat@contoso.com').length, 1);
      await assertChainIntact(h);
    });

    it('a rejected request redelivered stays rejected with its one audit record', async () => {
      const h = await newHarness();
      await seed(h);
      await applyChangeRequest(h, aQueuedCreate('sip:chat@contoso.com', 'pool1.contoso.com'));
      const duplicate = aQueuedCreate('sip:chat@contoso.com', 'pool1.contoso.com');
      const first = await applyChangeRequest(h, duplicate);
      const again = await applyChangeRequest(h, duplicate);
      assert.deepEqual(again, first);
      assert.equal(first.status, ChangeRequestStatus.rejected);
      assert.equal(first.reason?.code, RejectionCode.sipAddressHeldByEndpoint);
      assert.deepEqual(
        (await h.auditSearch.page({ subject: 'sip:chat@contoso.com', limit: 10 })).items.map((r) => r.action),
        [AuditAction.endpointCreateRejected, AuditAction.endpointCreated],
      );
    });

    it('a request submitted over HTTP and then delivered twice keeps its HTTP record and is audited once', async () => {
      const h = await newHarness();
      await seed(h);
      const { changeRequest: submitted } = await submitChangeRequest(h, {
        request: { operation: 'create', sipAddress: sip('sip:chat@contoso.com'), poolFqdn: fqdn('pool1.contoso.com'), displayName: 'Chat' },
        actor: 'alice',
        correlationId: 'corr-http',
        traceContext: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
      });
      assert.deepEqual(await h.queries.changeRequest(submitted.id), submitted);
      const [queued] = h.bus.sent.filter((s) => s.destination === Destination.endpointCreate);
      assert.ok(queued);
      assert.equal(queued.message.messageId, submitted.id);
      assert.deepEqual(queued.message.body, {
        schemaVersion: 1,
        operation: 'create',
        sipAddress: 'sip:chat@contoso.com',
        poolFqdn: 'pool1.contoso.com',
        displayName: 'Chat',
        changeRequestId: submitted.id,
        correlationId: 'corr-http',
        actor: 'alice',
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      });

      const command: QueuedChangeRequest = {
        changeRequestId: submitted.id,
        request: submitted.request as QueuedChangeRequest['request'],
        actor: 'alice',
        correlationId: 'corr-http',
        channel: 'queue',
      };
      const applied = await applyChangeRequest(h, command);
      await applyChangeRequest(h, command);
      const [record] = (await h.auditSearch.page({ subject: 'sip:chat@contoso.com', limit: 10 })).items;
      assert.equal((await h.auditSearch.page({ subject: 'sip:chat@contoso.com', limit: 10 })).items.length, 1);
      assert.deepEqual(await h.queries.changeRequest(submitted.id), {
        ...submitted,
        status: ChangeRequestStatus.applied,
        completedAt: applied.completedAt,
        auditSequence: record?.sequence,
      });
    });

    it('an invalid queue message is recorded once however often it is redelivered', async () => {
      const h = await newHarness();
      const message = {
        changeRequestId: uuidv7(),
        subject: 'queue:endpoint-create',
        actor: 'queue:endpoint-create',
        correlationId: 'corr-bad',
        errors: [
          { pointer: '#/sipAddress', detail: 'SIP address must start with the sip: scheme (sip:user@host)', location: 'message' as const },
        ],
      };
      const first = await recordInvalidMessage(h, message);
      const again = await recordInvalidMessage(h, message);
      assert.deepEqual(again, first);
      assert.equal(first.status, ChangeRequestStatus.rejected);
      assert.equal(first.reason?.code, RejectionCode.invalidMessage);
      const log = await wholeLog(h);
      assert.deepEqual(
        log.map((r) => [r.action, r.subject, r.changeRequestId]),
        [[AuditAction.changeRequestInvalid, 'queue:endpoint-create', message.changeRequestId]],
      );
      assert.deepEqual(log[0]?.after, { errors: message.errors });
      assert.deepEqual(await h.queries.changeRequest(message.changeRequestId), { ...first, auditSequence: 1 });
    });
  });

  describe('uniqueness under concurrency', () => {
    it(`${CONCURRENCY} concurrent creates of one address (on different pools): one applied, the rest sip_address_held_by_endpoint`, async () => {
      const h = await newHarness();
      const pools = await seed(h, CONCURRENCY);
      const commands = pools.map((pool) => aQueuedCreate('sip:chat@contoso.com', pool));
      const results = await Promise.all(commands.map((command) => applyChangeRequest(h, command)));

      const applied = results.filter((r) => r.status === ChangeRequestStatus.applied);
      const rejected = results.filter((r) => r.status === ChangeRequestStatus.rejected);
      assert.equal(applied.length, 1);
      assert.equal(rejected.length, CONCURRENCY - 1);
      assert.deepEqual(new Set(rejected.map((r) => r.reason?.code)), new Set([RejectionCode.sipAddressHeldByEndpoint]));

      const winner = applied[0] as ChangeRequest;
      const winnerPool = (winner.request as { poolFqdn: Fqdn }).poolFqdn;
      const holder = await h.queries.holder(sip('sip:chat@contoso.com'));
      assert.deepEqual(holder, {
        kind: 'endpoint',
        sipAddress: 'sip:chat@contoso.com',
        poolFqdn: winnerPool,
        displayName: null,
        isDefault: false,
        createdAt: winner.completedAt,
        changeRequestId: winner.id,
      });
      const snapshot = await h.directory.snapshot({ pools });
      for (const pool of pools)
        assert.equal(snapshot.pools.get(pool)?.adminEndpointSipAddress, pool === winnerPool ? 'sip:chat@contoso.com' : null);

      // Every request settled as returned, each audited exactly once, each announced exactly once.
      for (const result of results) assert.deepEqual(await h.queries.changeRequest(result.id), result);
      const records = (await h.auditSearch.page({ subject: 'sip:chat@contoso.com', limit: 100 })).items;
      assert.deepEqual(
        records.map((r) => r.action).sort(),
        [AuditAction.endpointCreated, ...Array(CONCURRENCY - 1).fill(AuditAction.endpointCreateRejected)].sort(),
      );
      assert.deepEqual(new Set(records.map((r) => r.changeRequestId)), new Set(results.map((r) => r.id)));
      assert.deepEqual(
        auditEvents(h)
          .filter((e) => e.subject === 'sip:chat@contoso.com')
          .map((e) => e.id)
          .sort(),
        records.map((r) => r.id).sort(),
      );
      assert.deepEqual(await h.outbox.pending(100), []);
      await assertChainIntact(h);
    });

    it(`${CONCURRENCY} concurrent creates of different addresses on one pool: one applied, the rest pool_has_endpoint`, async () => {
      const h = await newHarness();
      await seed(h, 1);
      const commands = Array.from({ length: CONCURRENCY }, (_, i) => aQueuedCreate(`sip:chat${i + 1}@contoso.com`, 'pool1.contoso.com'));
      const results = await Promise.all(commands.map((command) => applyChangeRequest(h, command)));

      const applied = results.filter((r) => r.status === ChangeRequestStatus.applied);
      const rejected = results.filter((r) => r.status === ChangeRequestStatus.rejected);
      assert.equal(applied.length, 1);
      assert.equal(rejected.length, CONCURRENCY - 1);
      assert.deepEqual(new Set(rejected.map((r) => r.reason?.code)), new Set([RejectionCode.poolHasEndpoint]));

      const winnerAddress = (applied[0]?.request as { sipAddress: SipAddress }).sipAddress;
      const snapshot = await h.directory.snapshot({
        pools: [fqdn('pool1.contoso.com')],
        addresses: commands.map((c) => c.request.sipAddress),
      });
      assert.equal(snapshot.pools.get('pool1.contoso.com')?.adminEndpointSipAddress, winnerAddress);
      // Only the winner's address and the pool's default endpoint are held.
      assert.deepEqual([...snapshot.holders.keys()].sort(), [winnerAddress, 'sip:default1@contoso.com'].sort());
      for (const result of results) assert.deepEqual(await h.queries.changeRequest(result.id), result);

      const log = await assertChainIntact(h);
      const endpointRecords = log.filter((r) => r.changeRequestId !== null);
      assert.equal(endpointRecords.length, CONCURRENCY);
      assert.equal(endpointRecords.filter((r) => r.action === AuditAction.endpointCreated).length, 1);
      assert.deepEqual(new Set(endpointRecords.map((r) => r.changeRequestId)), new Set(results.map((r) => r.id)));
    });
  });

  describe('tamper evidence', () => {
    it('after concurrent creates, deletes and rejections the audit log is one chain 1..n without gaps', async () => {
      const h = await newHarness();
      const pools = await seed(h, 5);
      await Promise.all(pools.map((pool, i) => applyChangeRequest(h, aQueuedCreate(`sip:room${i + 1}@contoso.com`, pool))));
      await Promise.all([
        ...pools.map((_, i) =>
          applyChangeRequest(h, {
            changeRequestId: uuidv7(),
            request: { operation: 'delete', sipAddress: sip(`sip:room${i + 1}@contoso.com`) },
            actor: 'alice',
            correlationId: 'corr-del',
            channel: 'queue',
          }),
        ),
        ...pools.map((pool) => applyChangeRequest(h, aQueuedCreate('sip:shared@contoso.com', pool))),
        applyChangeRequest(h, {
          changeRequestId: uuidv7(),
          request: { operation: 'delete', sipAddress: sip('sip:default1@contoso.com') },
          actor: 'mallory',
          correlationId: 'corr-x',
          channel: 'queue',
        }),
      ]);

      const log = await assertChainIntact(h);
      // 1 domain + 5 pools + 5 creates + 5 deletes + 5 contested creates + 1 refused delete of a default endpoint.
      assert.equal(log.length, 22);
      // Every record announced exactly once (publishing order across concurrent commits is not promised).
      assert.deepEqual(
        auditEvents(h)
          .map((e) => e.id)
          .sort(),
        log.map((r) => r.id).sort(),
      );
      assert.equal(log.filter((r) => r.subject === 'sip:default1@contoso.com')[0]?.outcome.status, 'rejected');
    });
  });

  describe('outbox', () => {
    it('a change committed through decideAndCommit publishes its event and leaves the outbox empty', async () => {
      const h = await newHarness();
      const result = await addSipDomain(h, admin, fqdn('contoso.com'));
      assert.deepEqual(await h.outbox.pending(10), []);
      assert.deepEqual(
        h.bus.sent.map((s) => [s.destination, s.message.messageId]),
        [['auditEvents', result.auditRecord?.id]],
      );
    });

    it('an event the bus could not take stays pending and is re-published later with the same id', async () => {
      const h = await newHarness();
      await seed(h);
      h.bus.failNext(new Error('audit topic down'));
      const result = await applyChangeRequest(h, aQueuedCreate('sip:chat@contoso.com', 'pool1.contoso.com'));
      assert.equal(result.status, ChangeRequestStatus.applied, 'the commit stands though publishing failed');
      assert.deepEqual(h.log.warnings, ['event left in the outbox for a re-drive']);

      const [record] = (await h.auditSearch.page({ subject: 'sip:chat@contoso.com', limit: 10 })).items;
      assert.ok(record);
      const pending = await h.outbox.pending(10);
      assert.deepEqual(
        pending.map((e) => [e.id, e.type, e.subject]),
        [[record.id, 'pchat.endpoint.created.v1', 'sip:chat@contoso.com']],
      );
      assert.deepEqual(pending[0]?.data, record);
      assert.equal(
        auditEvents(h).some((e) => e.id === record.id),
        false,
      );

      assert.equal(await publishPendingEvents(h), 1);
      const published = h.bus.sent.filter((s) => s.message.messageId === record.id);
      assert.equal(published.length, 1);
      assert.equal(published[0]?.destination, Destination.auditEvents);
      assert.deepEqual(published[0]?.message.body, pending[0]);
      assert.deepEqual(await h.outbox.pending(10), []);
      assert.equal(await publishPendingEvents(h), 0, 'nothing left to re-drive');
    });

    it('a submission the queue cannot take stays accepted; the re-driver sends it when due, and it is applied once', async () => {
      const h = await newHarness();
      await seed(h);
      h.bus.failNext(new Error('endpoint-create queue down'));
      const { changeRequest } = await submitChangeRequest(h, {
        request: { operation: 'create', sipAddress: sip('sip:chat@contoso.com'), poolFqdn: fqdn('pool1.contoso.com') },
        actor: 'alice',
        correlationId: 'corr-lost',
        traceContext: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'congo=t61rcWkgMzE' },
      });
      assert.equal(changeRequest.status, ChangeRequestStatus.accepted);
      assert.deepEqual(h.log.warnings, ['change request left for the re-driver to send']);
      assert.deepEqual(
        h.bus.sent.filter((s) => s.destination === Destination.endpointCreate),
        [],
      );

      assert.deepEqual(
        await redrive(h),
        { eventsPublished: 0, requestsResent: 0, requestsFailed: 0, badEntries: 0, idempotencyKeysPurged: 0 },
        'not due yet',
      );
      const due = at(h, DEFAULT_DELIVERY_POLICY.redriveAfterMs + 1000);
      assert.equal((await redrive(due)).requestsResent, 1);
      const resent = h.bus.sent.filter((s) => s.destination === Destination.endpointCreate);
      assert.deepEqual(
        resent.map((s) => s.message.messageId),
        [`${changeRequest.id}.2`],
        'its own message id, so broker duplicate detection keeps it',
      );
      assert.equal((await redrive(due)).requestsResent, 0, 'the next re-send waits twice as long');

      const body = EndpointChangeMessageSchema.parse(resent[0]?.message.body);
      // The re-sent message is in the request's trace, and so is the event its apply emits.
      assert.deepEqual(
        [body.traceparent, body.tracestate],
        ['00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'congo=t61rcWkgMzE'],
      );
      const settled = await applyChangeRequest(h, commandOf(body));
      assert.equal(settled.status, ChangeRequestStatus.applied);
      const [event] = auditEvents(h).filter((e) => e.subject === 'sip:chat@contoso.com');
      assert.deepEqual(
        [event?.traceparent, event?.tracestate],
        ['00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'congo=t61rcWkgMzE'],
      );
      assert.equal((await redrive(at(h, 3_600_000))).requestsResent, 0, 'a settled request has left its waiting list');
      assert.equal((await h.auditSearch.page({ subject: 'sip:chat@contoso.com', limit: 10 })).items.length, 1);
    });

    it(`a request whose message never gets processed is settled as failed (undeliverable) after ${DEFAULT_DELIVERY_POLICY.maxSends} sends, audited and announced`, async () => {
      const h = await newHarness();
      await seed(h);
      const { changeRequest } = await submitChangeRequest(h, {
        request: { operation: 'delete', sipAddress: sip('sip:lost@contoso.com') },
        actor: 'alice',
        correlationId: 'corr-lost',
      });
      let elapsed = 0;
      const reports = [];
      for (let sweep = 0; sweep < DEFAULT_DELIVERY_POLICY.maxSends; sweep++) {
        elapsed += DEFAULT_DELIVERY_POLICY.redriveAfterMs * 2 ** sweep + 1000;
        reports.push(await redrive(at(h, elapsed)));
      }
      assert.deepEqual(
        reports.map((r) => [r.requestsResent, r.requestsFailed]),
        [
          [1, 0],
          [1, 0],
          [1, 0],
          [1, 0],
          [0, 1],
        ],
      );
      assert.equal(h.bus.sent.filter((s) => s.destination === Destination.endpointDelete).length, DEFAULT_DELIVERY_POLICY.maxSends);

      const stored = await h.queries.changeRequest(changeRequest.id);
      assert.equal(stored?.status, ChangeRequestStatus.failed);
      assert.deepEqual(stored?.reason, {
        code: FailureCode.undeliverable,
        message: `the request's message was sent ${DEFAULT_DELIVERY_POLICY.maxSends} times and no worker settled it`,
      });
      const [record] = (await h.auditSearch.page({ subject: 'sip:lost@contoso.com', limit: 10 })).items;
      assert.deepEqual(
        [record?.action, record?.changeRequestId, record?.outcome],
        [AuditAction.changeRequestFailed, changeRequest.id, { status: 'failed', ...stored?.reason }],
      );
      assert.ok(auditEvents(h).some((e) => e.id === record?.id));

      // Its message arriving after all changes nothing.
      const late = await applyChangeRequest(
        h,
        commandOf(EndpointChangeMessageSchema.parse(h.bus.sent.find((s) => s.destination === Destination.endpointDelete)?.message.body)),
      );
      assert.deepEqual(late, stored);
    });

    it('the re-driver publishes an event a dead process left in the outbox, after a grace period, with its original id', async () => {
      const h = await newHarness();
      await seed(h);
      h.bus.failNext(new Error('audit topic down'));
      await applyChangeRequest(h, aQueuedCreate('sip:chat@contoso.com', 'pool1.contoso.com'));
      const [pending] = await h.outbox.pending(10);
      assert.ok(pending);

      assert.equal((await redrive(h)).eventsPublished, 0, 'the committing worker gets the grace period');
      assert.equal((await redrive(at(h, OUTBOX_GRACE_MS + 1000))).eventsPublished, 1);
      assert.deepEqual(
        auditEvents(h).filter((e) => e.subject === 'sip:chat@contoso.com'),
        [pending],
      );
      assert.equal((await redrive(at(h, OUTBOX_GRACE_MS + 1000))).eventsPublished, 0);
    });
  });

  describe('idempotent submission', () => {
    const request: ChangeRequestBody = {
      operation: 'create',
      sipAddress: sip('sip:chat@contoso.com'),
      poolFqdn: fqdn('pool1.contoso.com'),
    };

    it('a retry with the same key returns the original request; a different request under that key is refused; other callers keep their own keys', async () => {
      const h = await newHarness();
      await seed(h);
      const first = await submitChangeRequest(h, { request, actor: 'alice', correlationId: 'c1', idempotencyKey: 'k-1' });
      const retry = await submitChangeRequest(h, { request: { ...request }, actor: 'alice', correlationId: 'c2', idempotencyKey: 'k-1' });
      assert.deepEqual([first.replayed, retry.replayed], [false, true]);
      assert.deepEqual(retry.changeRequest, first.changeRequest);
      assert.equal(h.bus.sent.filter((s) => s.destination === Destination.endpointCreate).length, 1, 'one request, one message');

      await assert.rejects(
        submitChangeRequest(h, {
          request: { ...request, displayName: 'Other' },
          actor: 'alice',
          correlationId: 'c3',
          idempotencyKey: 'k-1',
        }),
        (error: unknown) =>
          error instanceof UnprocessableError &&
          error.code === 'idempotency_key_reused' &&
          error.errors[0]?.pointer === '#/idempotency-key',
      );
      const bob = await submitChangeRequest(h, { request, actor: 'bob', correlationId: 'c4', idempotencyKey: 'k-1' });
      assert.equal(bob.replayed, false);
      assert.notEqual(bob.changeRequest.id, first.changeRequest.id);
    });

    it('20 concurrent submissions with one key admit one request; after the key expires it admits a new one', async () => {
      const h = await newHarness();
      await seed(h);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          submitChangeRequest(h, { request, actor: 'alice', correlationId: `c${i}`, idempotencyKey: 'k-2' }),
        ),
      );
      assert.equal(new Set(results.map((r) => r.changeRequest.id)).size, 1);
      assert.equal(results.filter((r) => !r.replayed).length, 1);
      assert.equal(h.bus.sent.filter((s) => s.destination === Destination.endpointCreate).length, 1);

      const afterExpiry = await submitChangeRequest(at(h, DEFAULT_DELIVERY_POLICY.idempotencyKeyTtlMs + 1000), {
        request,
        actor: 'alice',
        correlationId: 'late',
        idempotencyKey: 'k-2',
      });
      assert.equal(afterExpiry.replayed, false);
      assert.notEqual(afterExpiry.changeRequest.id, results[0]?.changeRequest.id);
    });
  });

  describe('per-address order', () => {
    it('interleaved creates and deletes for several addresses, delivered shuffled and duplicated, end as the serial run does', async () => {
      const addresses = ['sip:a@contoso.com', 'sip:b@contoso.com', 'sip:c@contoso.com', 'sip:d@contoso.com'].map(sip);
      // Per address: create, create again (held), delete, delete again (gone), create, delete, create.
      const script = (address: SipAddress, pool: Fqdn): ChangeRequestBody[] => [
        { operation: 'create', sipAddress: address, poolFqdn: pool, displayName: 'first' },
        { operation: 'create', sipAddress: address, poolFqdn: pool, displayName: 'second' },
        { operation: 'delete', sipAddress: address },
        { operation: 'delete', sipAddress: address },
        { operation: 'create', sipAddress: address, poolFqdn: pool, displayName: 'third' },
        { operation: 'delete', sipAddress: address },
        { operation: 'create', sipAddress: address, poolFqdn: pool, displayName: 'last' },
      ];
      const scripts = addresses.map((address, i) => script(address, fqdn(`pool${i + 1}.contoso.com`)));
      const interleaved = scripts[0]?.flatMap((_, step) => scripts.map((steps) => steps[step] as ChangeRequestBody)) ?? [];

      // The serial run: each request applied before the next is submitted.
      const serial = await newHarness();
      await seed(serial, addresses.length);
      for (const request of interleaved) {
        const { changeRequest } = await submitChangeRequest(serial, { request, actor: 'alice', correlationId: 'serial' });
        await applyChangeRequest(serial, {
          changeRequestId: changeRequest.id,
          request,
          actor: 'alice',
          correlationId: 'serial',
          channel: 'http',
        });
      }

      // The same requests accepted in the same order, their messages delivered shuffled, each one to three times, eight at a time.
      const h = await newHarness();
      await seed(h, addresses.length);
      for (const request of interleaved) await submitChangeRequest(h, { request, actor: 'alice', correlationId: 'shuffled' });
      const messages = h.bus.sent
        .filter((s) => s.destination !== Destination.auditEvents)
        .map((s) => EndpointChangeMessageSchema.parse(s.message.body));
      const random = seededRandom(4711);
      const deliveries = shuffle(
        messages.flatMap((message) => Array(1 + Math.floor(random() * 3)).fill(message)),
        random,
      );
      for (let i = 0; i < deliveries.length; i += 8)
        await Promise.all(deliveries.slice(i, i + 8).map((message) => applyChangeRequest(h, commandOf(message))));

      for (const address of addresses) {
        const outcomes = async (harness: Harness) =>
          (await harness.auditSearch.page({ subject: address, limit: 100 })).items
            .reverse()
            .map((r) => [r.action, r.outcome.status === 'applied' ? 'applied' : r.outcome.code]);
        assert.deepEqual(await outcomes(h), await outcomes(serial), `the audit trail of ${address}`);
        const holder = async (harness: Harness) => {
          const found = await harness.queries.holder(address);
          return found?.kind === 'endpoint' ? [found.poolFqdn, found.displayName] : found;
        };
        assert.deepEqual(await holder(h), await holder(serial), `the endpoint at ${address}`);
      }
      assert.deepEqual(await holderNames(h, addresses), [
        ['sip:a@contoso.com', 'last'],
        ['sip:b@contoso.com', 'last'],
        ['sip:c@contoso.com', 'last'],
        ['sip:d@contoso.com', 'last'],
      ]);
      const log = await assertChainIntact(h);
      assert.equal(
        log.filter((r) => r.changeRequestId !== null).length,
        interleaved.length,
        'one audit record per request, however often delivered',
      );
    });
  });
});

/** Use-case dependencies whose clock runs `ms` ahead. */
function at(h: Harness, ms: number): Harness {
  return { ...h, clock: { now: () => new Date(Date.now() + ms) } };
}

/** The command a queue worker builds from a message (as shared/entrypoints/queue/endpointChangeMessages.ts does). */
function commandOf(message: ReturnType<typeof EndpointChangeMessageSchema.parse>): QueuedChangeRequest {
  const { schemaVersion: _v, changeRequestId, correlationId, actor, ...request } = message;
  return {
    changeRequestId: changeRequestId as string,
    request,
    actor: actor ?? 'queue',
    correlationId: correlationId ?? 'none',
    channel: 'queue',
  };
}

async function holderNames(h: Harness, addresses: SipAddress[]) {
  const snapshot = await h.directory.snapshot({ addresses });
  return addresses.map((address) => {
    const holder = snapshot.holders.get(address);
    return [address, holder?.displayName ?? null];
  });
}

/** A small deterministic PRNG (mulberry32), so a failing shuffle can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const result = [...items];
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [result[i], result[j]] = [result[j] as T, result[i] as T];
  }
  return result;
}
