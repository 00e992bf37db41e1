import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TableClient } from '@azure/data-tables';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { TableDirectoryStore } from '../../shared/adapters/tables/TableDirectoryStore';
import { InMemoryMessageBus } from '../../shared/adapters/memory/InMemoryMessageBus';
import { systemClock, uuidv7, uuidv7Ids } from '../../shared/adapters/system';
import type { Dependencies } from '../../shared/application/commitDecision';
import type { CloudEvent } from '../../shared/application/events';
import type { Logger } from '../../shared/application/ports';
import { publishPendingEvents } from '../../shared/application/publishEvents';
import { addSipDomain, registerPool } from '../../shared/application/topology';
import {
  applyChangeRequest, recordInvalidMessage, submitChangeRequest, type QueuedChangeRequest,
} from '../../shared/application/changeRequests';
import { AuditAction, GENESIS_HEAD, hashAuditRecord, type AuditRecord } from '../../shared/domain/audit';
import { ChangeRequestStatus, RejectionCode, type ChangeRequest } from '../../shared/domain/changeRequest';
import { UnavailableError } from '../../shared/domain/errors';
import type { Fqdn, SipAddress } from '../../shared/domain/names';

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

const sip = (value: string) => value as SipAddress;
const fqdn = (value: string) => value as Fqdn;
const admin = { actor: 'admin@contoso.com', correlationId: 'corr-topology' };
const CONCURRENCY = 20;

/** A logger that keeps its warnings, so a test can see what was logged. */
function recordingLog(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, info: () => undefined, warn: (message) => { warnings.push(message); } };
}

interface Harness {
  store: TableDirectoryStore;
  bus: InMemoryMessageBus;
  log: ReturnType<typeof recordingLog>;
  deps: Dependencies;
}

let azurite: TestAzurite;
let tableCount = 0;

/** Use-case dependencies over a fresh Azurite table and an in-memory bus. */
async function newHarness(): Promise<Harness> {
  const table = TableClient.fromConnectionString(azurite.connectionString, `usecases${process.pid}x${++tableCount}`, { allowInsecureConnection: true });
  const store = new TableDirectoryStore(table, 'default');
  await store.ensureTable();
  const bus = new InMemoryMessageBus();
  const log = recordingLog();
  return { store, bus, log, deps: { store, bus, clock: systemClock, ids: uuidv7Ids, log, eventSource: '/test' } };
}

/** contoso.com with `pools` registered pools: pool1.contoso.com … (default endpoints sip:default<n>@contoso.com). */
async function seed(h: Harness, pools = 1): Promise<Fqdn[]> {
  await addSipDomain(h.deps, admin, fqdn('contoso.com'));
  const names: Fqdn[] = [];
  for (let n = 1; n <= pools; n++) {
    const name = fqdn(`pool${n}.contoso.com`);
    await registerPool(h.deps, admin, name, sip(`sip:default${n}@contoso.com`));
    names.push(name);
  }
  return names;
}

function queuedCreate(sipAddress: string, poolFqdn: string, changeRequestId = uuidv7()): QueuedChangeRequest {
  return { changeRequestId, request: { operation: 'create', sipAddress: sip(sipAddress), poolFqdn: fqdn(poolFqdn) }, actor: 'provisioning-bot', correlationId: `corr-${changeRequestId}`, channel: 'queue' };
}

/** Every audit record, oldest first (pages through the whole log). */
async function wholeLog(h: Harness): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await h.store.listAudit({ limit: 7, ...(cursor ? { cursor } : {}) });
    records.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return records.reverse();
}

const auditEvents = (h: Harness) => h.bus.sent.filter((s) => s.destination === 'auditEvents').map((s) => s.message.body as CloudEvent);

/** The log is one unbroken chain: sequences 1..n, each record linked to and hashed over its predecessor, the head at its end. */
async function assertChainIntact(h: Harness): Promise<AuditRecord[]> {
  const log = await wholeLog(h);
  assert.deepEqual(log.map((r) => r.sequence), log.map((_, i) => i + 1));
  let previous = GENESIS_HEAD.hash;
  for (const record of log) {
    assert.equal(record.previousHash, previous, `record ${record.sequence} links to its predecessor`);
    const { hash, ...unhashed } = record;
    assert.equal(hash, hashAuditRecord(unhashed), `record ${record.sequence} hashes its content`);
    previous = hash;
  }
  const last = log[log.length - 1] as AuditRecord;
  assert.deepEqual((await h.store.snapshot({})).head, { sequence: last.sequence, hash: last.hash, time: last.time });
  return log;
}

// ---------------------------------------------------------------------------------------------

describe('change-request use cases on Azurite', () => {
  before(async () => { azurite = await startTestAzurite(); });
  after(async () => { await azurite?.stop(); });

  describe('at-least-once in, exactly-once effect out', () => {
    it('applying the same queued change request twice yields one audit record and one event', async () => {
      const h = await newHarness();
      await seed(h);
      const command = queuedCreate('sip:chat@contoso.com', 'pool1.contoso.com');
      const first = await applyChangeRequest(h.deps, command);
      const second = await applyChangeRequest(h.deps, command);

      assert.deepEqual(second, first);
      assert.equal(first.status, ChangeRequestStatus.applied);
      const records = (await h.store.listAudit({ subject: 'sip:chat@contoso.com', limit: 10 })).items;
      assert.equal(records.length, 1);
      const record = records[0] as AuditRecord;
      assert.equal(record.action, AuditAction.endpointCreated);
      assert.equal(record.changeRequestId, command.changeRequestId);
      assert.deepEqual(await h.store.getChangeRequest(command.changeRequestId), { ...first, auditSequence: record.sequence });
      assert.deepEqual(auditEvents(h).filter((e) => e.subject === 'sip:chat@contoso.com').map((e) => e.id), [record.id]);
      assert.deepEqual(await h.store.getHolder(sip('sip:chat@contoso.com')), {
        kind: 'endpoint', sipAddress: 'sip:chat@contoso.com', poolFqdn: 'pool1.contoso.com', displayName: null, isDefault: false,
        createdAt: first.completedAt, changeRequestId: command.changeRequestId,
      });
      assert.deepEqual(await h.store.pendingEvents(10), []);
    });

    it('concurrent redeliveries of one request still yield one audit record and one event', async () => {
      const h = await newHarness();
      await seed(h);
      const command = queuedCreate('sip:chat@contoso.com', 'pool1.contoso.com');
      const results = await Promise.all(Array.from({ length: 5 }, () => applyChangeRequest(h.deps, command)));
      assert.deepEqual(new Set(results.map((r) => JSON.stringify(r))).size, 1);
      assert.equal(results[0]?.status, ChangeRequestStatus.applied);
      assert.equal((await h.store.listAudit({ subject: 'sip:chat@contoso.com', limit: 10 })).items.length, 1);
      assert.equal(auditEvents(h).filter((e) => e.subject === 'sip:chat@contoso.com').length, 1);
      await assertChainIntact(h);
    });

    it('a rejected request redelivered stays rejected with its one audit record', async () => {
      const h = await newHarness();
      await seed(h);
      await applyChangeRequest(h.deps, queuedCreate('sip:chat@contoso.com', 'pool1.contoso.com'));
      const duplicate = queuedCreate('sip:chat@contoso.com', 'pool1.contoso.com');
      const first = await applyChangeRequest(h.deps, duplicate);
      const again = await applyChangeRequest(h.deps, duplicate);
      assert.deepEqual(again, first);
      assert.equal(first.status, ChangeRequestStatus.rejected);
      assert.equal(first.reason?.code, RejectionCode.sipAddressHeldByEndpoint);
      assert.deepEqual((await h.store.listAudit({ subject: 'sip:chat@contoso.com', limit: 10 })).items.map((r) => r.action),
        [AuditAction.endpointCreateRejected, AuditAction.endpointCreated]);
    });

    it('a request submitted over HTTP and then delivered twice keeps its HTTP record and is audited once', async () => {
      const h = await newHarness();
      await seed(h);
      const submitted = await submitChangeRequest(h.deps, {
        request: { operation: 'create', sipAddress: sip('sip:chat@contoso.com'), poolFqdn: fqdn('pool1.contoso.com'), displayName: 'Chat' },
        actor: 'alice', correlationId: 'corr-http',
      });
      assert.deepEqual(await h.store.getChangeRequest(submitted.id), submitted);
      const [queued] = h.bus.sent.filter((s) => s.destination === 'endpointCreate');
      assert.ok(queued);
      assert.equal(queued.message.messageId, submitted.id);
      assert.deepEqual(queued.message.body, {
        schemaVersion: 1, operation: 'create', sipAddress: 'sip:chat@contoso.com', poolFqdn: 'pool1.contoso.com', displayName: 'Chat',
        changeRequestId: submitted.id, correlationId: 'corr-http', actor: 'alice',
      });

      const command: QueuedChangeRequest = { changeRequestId: submitted.id, request: submitted.request as QueuedChangeRequest['request'], actor: 'alice', correlationId: 'corr-http', channel: 'queue' };
      const applied = await applyChangeRequest(h.deps, command);
      await applyChangeRequest(h.deps, command);
      const [record] = (await h.store.listAudit({ subject: 'sip:chat@contoso.com', limit: 10 })).items;
      assert.equal((await h.store.listAudit({ subject: 'sip:chat@contoso.com', limit: 10 })).items.length, 1);
      assert.deepEqual(await h.store.getChangeRequest(submitted.id), {
        ...submitted, status: ChangeRequestStatus.applied, completedAt: applied.completedAt, auditSequence: record?.sequence,
      });
    });

    it('an invalid queue message is recorded once however often it is redelivered', async () => {
      const h = await newHarness();
      const message = {
        changeRequestId: uuidv7(), subject: 'queue:endpoint-create', actor: 'queue:endpoint-create', correlationId: 'corr-bad',
        errors: [{ pointer: '#/sipAddress', detail: 'SIP address must start with the sip: scheme (sip:user@host)', location: 'message' as const }],
      };
      const first = await recordInvalidMessage(h.deps, message);
      const again = await recordInvalidMessage(h.deps, message);
      assert.deepEqual(again, first);
      assert.equal(first.status, ChangeRequestStatus.rejected);
      assert.equal(first.reason?.code, RejectionCode.invalidMessage);
      const log = await wholeLog(h);
      assert.deepEqual(log.map((r) => [r.action, r.subject, r.changeRequestId]), [[AuditAction.changeRequestInvalid, 'queue:endpoint-create', message.changeRequestId]]);
      assert.deepEqual(log[0]?.after, { errors: message.errors });
      assert.deepEqual(await h.store.getChangeRequest(message.changeRequestId), { ...first, auditSequence: 1 });
    });
  });

  describe('uniqueness under concurrency', () => {
    it(`${CONCURRENCY} concurrent creates of one address (on different pools): one applied, the rest sip_address_held_by_endpoint`, async () => {
      const h = await newHarness();
      const pools = await seed(h, CONCURRENCY);
      const commands = pools.map((pool) => queuedCreate('sip:chat@contoso.com', pool));
      const results = await Promise.all(commands.map((command) => applyChangeRequest(h.deps, command)));

      const applied = results.filter((r) => r.status === ChangeRequestStatus.applied);
      const rejected = results.filter((r) => r.status === ChangeRequestStatus.rejected);
      assert.equal(applied.length, 1);
      assert.equal(rejected.length, CONCURRENCY - 1);
      assert.deepEqual(new Set(rejected.map((r) => r.reason?.code)), new Set([RejectionCode.sipAddressHeldByEndpoint]));

      const winner = applied[0] as ChangeRequest;
      const winnerPool = (winner.request as { poolFqdn: Fqdn }).poolFqdn;
      const holder = await h.store.getHolder(sip('sip:chat@contoso.com'));
      assert.deepEqual(holder, { kind: 'endpoint', sipAddress: 'sip:chat@contoso.com', poolFqdn: winnerPool, displayName: null, isDefault: false, createdAt: winner.completedAt, changeRequestId: winner.id });
      const snapshot = await h.store.snapshot({ pools });
      for (const pool of pools) assert.equal(snapshot.pools.get(pool)?.adminEndpointSipAddress, pool === winnerPool ? 'sip:chat@contoso.com' : null);

      // Every request settled as returned, each audited exactly once, each announced exactly once.
      for (const result of results) assert.deepEqual(await h.store.getChangeRequest(result.id), result);
      const records = (await h.store.listAudit({ subject: 'sip:chat@contoso.com', limit: 100 })).items;
      assert.deepEqual(records.map((r) => r.action).sort(), [AuditAction.endpointCreated, ...Array(CONCURRENCY - 1).fill(AuditAction.endpointCreateRejected)].sort());
      assert.deepEqual(new Set(records.map((r) => r.changeRequestId)), new Set(results.map((r) => r.id)));
      assert.deepEqual(auditEvents(h).filter((e) => e.subject === 'sip:chat@contoso.com').map((e) => e.id).sort(), records.map((r) => r.id).sort());
      assert.deepEqual(await h.store.pendingEvents(100), []);
      await assertChainIntact(h);
    });

    it(`${CONCURRENCY} concurrent creates of different addresses on one pool: one applied, the rest pool_has_endpoint`, async () => {
      const h = await newHarness();
      await seed(h, 1);
      const commands = Array.from({ length: CONCURRENCY }, (_, i) => queuedCreate(`sip:chat${i + 1}@contoso.com`, 'pool1.contoso.com'));
      const results = await Promise.all(commands.map((command) => applyChangeRequest(h.deps, command)));

      const applied = results.filter((r) => r.status === ChangeRequestStatus.applied);
      const rejected = results.filter((r) => r.status === ChangeRequestStatus.rejected);
      assert.equal(applied.length, 1);
      assert.equal(rejected.length, CONCURRENCY - 1);
      assert.deepEqual(new Set(rejected.map((r) => r.reason?.code)), new Set([RejectionCode.poolHasEndpoint]));

      const winnerAddress = (applied[0]?.request as { sipAddress: SipAddress }).sipAddress;
      const snapshot = await h.store.snapshot({ pools: [fqdn('pool1.contoso.com')], addresses: commands.map((c) => c.request.sipAddress) });
      assert.equal(snapshot.pools.get('pool1.contoso.com')?.adminEndpointSipAddress, winnerAddress);
      // Only the winner's address and the pool's default endpoint are held.
      assert.deepEqual([...snapshot.holders.keys()].sort(), [winnerAddress, 'sip:default1@contoso.com'].sort());
      for (const result of results) assert.deepEqual(await h.store.getChangeRequest(result.id), result);

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
      await Promise.all(pools.map((pool, i) => applyChangeRequest(h.deps, queuedCreate(`sip:room${i + 1}@contoso.com`, pool))));
      await Promise.all([
        ...pools.map((_, i) => applyChangeRequest(h.deps, { changeRequestId: uuidv7(), request: { operation: 'delete', sipAddress: sip(`sip:room${i + 1}@contoso.com`) }, actor: 'alice', correlationId: 'corr-del', channel: 'queue' })),
        ...pools.map((pool) => applyChangeRequest(h.deps, queuedCreate('sip:shared@contoso.com', pool))),
        applyChangeRequest(h.deps, { changeRequestId: uuidv7(), request: { operation: 'delete', sipAddress: sip('sip:default1@contoso.com') }, actor: 'mallory', correlationId: 'corr-x', channel: 'queue' }),
      ]);

      const log = await assertChainIntact(h);
      // 1 domain + 5 pools + 5 creates + 5 deletes + 5 contested creates + 1 refused delete of a default endpoint.
      assert.equal(log.length, 22);
      // Every record announced exactly once (publishing order across concurrent commits is not promised).
      assert.deepEqual(auditEvents(h).map((e) => e.id).sort(), log.map((r) => r.id).sort());
      assert.equal(log.filter((r) => r.subject === 'sip:default1@contoso.com')[0]?.outcome.status, 'rejected');
    });
  });

  describe('outbox', () => {
    it('an event the bus could not take stays pending and is re-published later with the same id', async () => {
      const h = await newHarness();
      await seed(h);
      h.bus.failNext(new Error('audit topic down'));
      const result = await applyChangeRequest(h.deps, queuedCreate('sip:chat@contoso.com', 'pool1.contoso.com'));
      assert.equal(result.status, ChangeRequestStatus.applied, 'the commit stands though publishing failed');
      assert.deepEqual(h.log.warnings, ['event left in the outbox for a re-drive']);

      const [record] = (await h.store.listAudit({ subject: 'sip:chat@contoso.com', limit: 10 })).items;
      assert.ok(record);
      const pending = await h.store.pendingEvents(10);
      assert.deepEqual(pending.map((e) => [e.id, e.type, e.subject]), [[record.id, 'pchat.endpoint.created.v1', 'sip:chat@contoso.com']]);
      assert.deepEqual(pending[0]?.data, record);
      assert.equal(auditEvents(h).some((e) => e.id === record.id), false);

      assert.equal(await publishPendingEvents(h.deps), 1);
      const published = h.bus.sent.filter((s) => s.message.messageId === record.id);
      assert.equal(published.length, 1);
      assert.equal(published[0]?.destination, 'auditEvents');
      assert.deepEqual(published[0]?.message.body, pending[0]);
      assert.deepEqual(await h.store.pendingEvents(10), []);
      assert.equal(await publishPendingEvents(h.deps), 0, 'nothing left to re-drive');
    });

    it('a submission the queue cannot take is stored as failed, audited as change-request.failed, and answered with UnavailableError', async () => {
      const h = await newHarness();
      await seed(h);
      const eventsBefore = auditEvents(h).length;
      h.bus.failNext(new Error('endpoint-create queue down'));
      await assert.rejects(
        submitChangeRequest(h.deps, { request: { operation: 'create', sipAddress: sip('sip:chat@contoso.com'), poolFqdn: fqdn('pool1.contoso.com') }, actor: 'alice', correlationId: 'corr-fail' }),
        UnavailableError,
      );

      const records = (await h.store.listAudit({ subject: 'sip:chat@contoso.com', limit: 10 })).items;
      assert.equal(records.length, 1);
      const record = records[0] as AuditRecord;
      const changeRequestId = record.changeRequestId as string;
      const reason = { code: 'queue_unavailable', message: 'the change request could not be queued; submit it again' };
      assert.deepEqual({ ...record, id: '', sequence: 0, time: '', previousHash: '', hash: '' }, {
        id: '', sequence: 0, time: '', previousHash: '', hash: '',
        actor: 'alice', action: AuditAction.changeRequestFailed, subject: 'sip:chat@contoso.com', changeRequestId,
        correlationId: 'corr-fail', causationId: changeRequestId, outcome: { status: 'failed', ...reason }, before: null, after: null,
      });
      const stored = await h.store.getChangeRequest(changeRequestId);
      assert.deepEqual(stored, {
        id: changeRequestId, status: ChangeRequestStatus.failed, request: { operation: 'create', sipAddress: 'sip:chat@contoso.com', poolFqdn: 'pool1.contoso.com' },
        reason, actor: 'alice', correlationId: 'corr-fail', channel: 'http', acceptedAt: stored?.acceptedAt, completedAt: record.time, auditSequence: record.sequence,
      });
      // Nothing reached the create queue, nothing changed in the directory, and the failure itself was announced.
      assert.deepEqual(h.bus.sent.filter((s) => s.destination === 'endpointCreate'), []);
      assert.equal(await h.store.getHolder(sip('sip:chat@contoso.com')), undefined);
      assert.deepEqual(auditEvents(h).slice(eventsBefore).map((e) => [e.id, e.type]), [[record.id, 'pchat.change-request.failed.v1']]);
      assert.deepEqual(await h.store.pendingEvents(10), []);

      // A late delivery of that request changes nothing: a failed request stays failed.
      const late = await applyChangeRequest(h.deps, { changeRequestId, request: stored?.request as QueuedChangeRequest['request'], actor: 'alice', correlationId: 'corr-fail', channel: 'queue' });
      assert.deepEqual(late, stored);
      assert.equal(await h.store.getHolder(sip('sip:chat@contoso.com')), undefined);
    });
  });
});
