import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { TableClient } from '@azure/data-tables';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import type { InMemoryMessageBus } from '../../shared/adapters/memory/InMemoryMessageBus';
import { uuidv7 } from '../../shared/adapters/system';
import { applyChangeRequest } from '../../shared/application/changeRequests/applyChangeRequest';
import { createTableStore } from '../../shared/adapters/tables/tableStore';
import { toCloudEvent } from '../../shared/application/events';
import type { EndpointFilter } from '../../shared/application/ports/directoryQueries';
import type { DirectoryCommit, DirectorySnapshot } from '../../shared/application/ports/directory';
import { retryWhileContended } from '../../shared/application/retry';
import { addDirectoryUser, addSipDomain, registerPool } from '../../shared/application/topology';
import { AuditAction, GENESIS_HEAD, appendToChain, type AuditDraft, type AuditRecord } from '../../shared/domain/audit';
import {
  ChangeRequestStatus,
  type ChangeRequest,
  type ChangeRequestBody,
  type ValidChangeRequest,
} from '../../shared/domain/changeRequest';
import type { DirectoryUser, DirectoryWrite, Endpoint, PersistentChatPool, SipDomain } from '../../shared/domain/directory';
import { ConcurrencyError, ValidationError } from '../../shared/domain/errors';
import { fqdn, sip } from '../support/builders';
import { ManualClock, newStoreHarness, type StoreHarness } from '../support/storeHarness';

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

const T0 = '2024-05-01T10:00:00.000Z';
const PARTITION = 'deployment-a';

interface Harness {
  table: TableClient;
  /** The role ports, as the composition root wires them. */
  store: StoreHarness;
  bus: InMemoryMessageBus;
  clock: ManualClock;
  deps: StoreHarness;
}

let azurite: TestAzurite;

/** The role ports over a fresh table of their own, and use-case dependencies on them. */
async function newHarness(partition = PARTITION): Promise<Harness> {
  const clock = new ManualClock(T0);
  const deps = await newStoreHarness(azurite.connectionString, { partition, clock });
  return { table: deps.table, store: deps, bus: deps.bus, clock, deps };
}

/** Every row of a partition as { rowKey, data } (data parsed), in key order. */
async function rowsOf(table: TableClient, partition = PARTITION): Promise<Array<{ rowKey: string; data: unknown }>> {
  const rows: Array<{ rowKey: string; data: unknown }> = [];
  for await (const row of table.listEntities<{ data: string }>({ queryOptions: { filter: `PartitionKey eq '${partition}'` } })) {
    rows.push({ rowKey: row.rowKey as string, data: JSON.parse(row.data) });
  }
  return rows;
}

const rowKeysOf = async (table: TableClient) => (await rowsOf(table)).map((row) => row.rowKey);

function draft(action: AuditDraft['action'], subject: string, after: unknown = null): AuditDraft {
  return {
    id: uuidv7(),
    actor: 'admin@contoso.com',
    action,
    subject,
    changeRequestId: null,
    correlationId: 'corr-1',
    causationId: null,
    outcome: { status: 'applied' },
    before: null,
    after,
  };
}

/** A commit decided on `base`: the writes plus one audit record (and its event) per draft. */
function commitOn(
  base: Pick<DirectorySnapshot, 'version' | 'head'>,
  writes: DirectoryWrite[],
  drafts: AuditDraft[],
  changeRequests: ChangeRequest[] = [],
): DirectoryCommit {
  const { records, head } = appendToChain(base.head, drafts, new Date(T0));
  return {
    expectedVersion: base.version,
    head,
    writes,
    changeRequests,
    audit: records,
    outbox: records.map((record) => toCloudEvent(record, '/test')),
  };
}

const domainOf = (name: string): SipDomain => ({ name: fqdn(name), addedAt: T0 });
const poolOf = (name: string, defaultEndpoint: string): PersistentChatPool => ({
  fqdn: fqdn(name),
  defaultEndpointSipAddress: sip(defaultEndpoint),
  adminEndpointSipAddress: null,
  registeredAt: T0,
});
const defaultEndpointOf = (pool: PersistentChatPool): Endpoint => ({
  kind: 'endpoint',
  sipAddress: pool.defaultEndpointSipAddress,
  poolFqdn: pool.fqdn,
  displayName: null,
  isDefault: true,
  createdAt: T0,
  changeRequestId: null,
});
const userOf = (address: string, displayName: string | null = null): DirectoryUser => ({
  kind: 'user',
  sipAddress: sip(address),
  displayName,
  addedAt: T0,
});

function acceptedRequest(id: string, request: ChangeRequestBody): ChangeRequest {
  return {
    id,
    status: ChangeRequestStatus.accepted,
    request,
    reason: null,
    actor: 'alice',
    correlationId: `corr-${id}`,
    channel: 'http',
    acceptedAt: T0,
    completedAt: null,
    auditSequence: null,
    ticket: null,
  };
}

const emptySnapshot = { version: '', head: GENESIS_HEAD };
const admin = { actor: 'admin@contoso.com', correlationId: 'corr-topology' };

/** Applies a queued create as `actor`. */
function create(
  h: Harness,
  sipAddress: string,
  poolFqdn: string,
  options: { displayName?: string; actor?: string; replaceLegacyUser?: boolean } = {},
) {
  const request: ChangeRequestBody = {
    operation: 'create',
    sipAddress: sip(sipAddress),
    poolFqdn: fqdn(poolFqdn),
    ...(options.displayName !== undefined ? { displayName: options.displayName } : {}),
    ...(options.replaceLegacyUser ? { replaceLegacyUser: true } : {}),
  };
  return applyChangeRequest(h.deps, {
    changeRequestId: uuidv7(),
    request,
    actor: options.actor ?? 'alice',
    correlationId: uuidv7(),
    channel: 'queue',
  });
}

function remove(h: Harness, sipAddress: string, actor = 'alice') {
  return applyChangeRequest(h.deps, {
    changeRequestId: uuidv7(),
    request: { operation: 'delete', sipAddress: sip(sipAddress) },
    actor,
    correlationId: uuidv7(),
    channel: 'queue',
  });
}

// ---------------------------------------------------------------------------------------------

describe('TableDirectoryStore on Azurite', () => {
  before(async () => {
    azurite = await startTestAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });

  describe('snapshot and commit', () => {
    it('an empty store snapshots as version "", the genesis head and nothing else', async () => {
      const { store } = await newHarness();
      const snapshot = await store.directory.snapshot({
        domains: [fqdn('contoso.com')],
        pools: [fqdn('pcpool.contoso.com')],
        addresses: [sip('sip:chat@contoso.com')],
        domainUsage: [fqdn('contoso.com')],
        changeRequests: ['0190c0de-0000-7000-8000-000000000001'],
      });
      assert.deepEqual(snapshot, {
        version: '',
        head: GENESIS_HEAD,
        domains: new Map(),
        pools: new Map(),
        holders: new Map(),
        changeRequests: new Map(),
        domainsInUse: new Set(),
        nextWaiting: new Map(),
      });
      assert.equal(await store.queries.isEmpty(), true);
    });

    it('the first commit creates the head; a snapshot then sees domains, pools (with their default endpoint), holders and change requests', async () => {
      const { store, table } = await newHarness();
      const pool = poolOf('pcpool.contoso.com', 'sip:pchat-default@contoso.com');
      const user = userOf('sip:ocschat@contoso.com', 'Group Chat');
      const request = acceptedRequest('0190c0de-0000-7000-8000-0000000000aa', {
        operation: 'create',
        sipAddress: sip('sip:chat@contoso.com'),
        poolFqdn: pool.fqdn,
      });
      const commit = commitOn(
        emptySnapshot,
        [
          { type: 'putDomain', domain: domainOf('contoso.com') },
          { type: 'putPool', pool },
          { type: 'putHolder', holder: defaultEndpointOf(pool) },
          { type: 'putHolder', holder: user },
        ],
        [draft(AuditAction.sipDomainAdded, 'sip-domain:contoso.com'), draft(AuditAction.poolRegistered, 'pool:pcpool.contoso.com')],
        [request],
      );
      await store.directory.commit(commit);

      const snapshot = await store.directory.snapshot({
        domains: [fqdn('contoso.com'), fqdn('fabrikam.com')],
        pools: [pool.fqdn],
        addresses: [user.sipAddress, sip('sip:free@contoso.com')],
        domainUsage: [fqdn('contoso.com'), fqdn('fabrikam.com')],
        changeRequests: [request.id, 'unknown-id'],
      });
      assert.notEqual(snapshot.version, '');
      assert.deepEqual(
        { ...snapshot, version: '(etag)' },
        {
          version: '(etag)',
          head: commit.head,
          domains: new Map([['contoso.com', domainOf('contoso.com')]]),
          pools: new Map([[pool.fqdn, pool]]),
          // The default endpoint comes along with its pool though its address was not asked for.
          holders: new Map<string, unknown>([
            [user.sipAddress, user],
            [pool.defaultEndpointSipAddress, defaultEndpointOf(pool)],
          ]),
          changeRequests: new Map([[request.id, request]]),
          domainsInUse: new Set(['contoso.com']),
          nextWaiting: new Map(),
        },
      );
      assert.equal(commit.head.sequence, 2);
      assert.equal(await store.queries.isEmpty(), false);

      // Exactly the rows of the commit: head, state, change request, per record its audit row and its
      // index rows (subject, actor, type, outcome, correlation; no change request here), one outbox row per event.
      const [first, second] = commit.audit as [AuditRecord, AuditRecord];
      assert.deepEqual(await rowsOf(table), [
        { rowKey: 'address|contoso.com|ocschat', data: user },
        { rowKey: 'address|contoso.com|pchat-default', data: defaultEndpointOf(pool) },
        { rowKey: 'auditix|actor|admin%40contoso.com|999999999999997', data: second },
        { rowKey: 'auditix|actor|admin%40contoso.com|999999999999998', data: first },
        { rowKey: 'auditix|correlation|corr-1|999999999999997', data: second },
        { rowKey: 'auditix|correlation|corr-1|999999999999998', data: first },
        { rowKey: 'auditix|outcome|applied|999999999999997', data: second },
        { rowKey: 'auditix|outcome|applied|999999999999998', data: first },
        { rowKey: 'auditix|type|pool.registered|999999999999997', data: second },
        { rowKey: 'auditix|type|sip-domain.added|999999999999998', data: first },
        { rowKey: 'auditsub|pool%3Apcpool.contoso.com|999999999999997', data: second },
        { rowKey: 'auditsub|sip-domain%3Acontoso.com|999999999999998', data: first },
        { rowKey: 'audit|999999999999997', data: second },
        { rowKey: 'audit|999999999999998', data: first },
        { rowKey: `cr|${request.id}`, data: request },
        { rowKey: 'domain|contoso.com', data: domainOf('contoso.com') },
        { rowKey: 'head', data: commit.head },
        { rowKey: 'outbox|000000000000001', data: commit.outbox[0] },
        { rowKey: 'outbox|000000000000002', data: commit.outbox[1] },
        { rowKey: 'pool|pcpool.contoso.com', data: pool },
      ]);
    });

    it('a commit on a stale version is refused with ConcurrencyError and writes nothing at all', async () => {
      const { store, table } = await newHarness();
      await store.directory.commit(
        commitOn(
          emptySnapshot,
          [{ type: 'putDomain', domain: domainOf('contoso.com') }],
          [draft(AuditAction.sipDomainAdded, 'sip-domain:contoso.com')],
        ),
      );
      const stale = await store.directory.snapshot({});
      await store.directory.commit(
        commitOn(
          stale,
          [{ type: 'putDomain', domain: domainOf('fabrikam.com') }],
          [draft(AuditAction.sipDomainAdded, 'sip-domain:fabrikam.com')],
        ),
      );
      const current = await store.directory.snapshot({});
      const before = await rowsOf(table);

      // Only the version is stale: the records follow the current head (sequence 3), so the head's
      // If-Match is the one thing that can refuse this commit.
      const late = commitOn(
        { version: stale.version, head: current.head },
        [
          { type: 'putDomain', domain: domainOf('northwind.com') },
          { type: 'putHolder', holder: userOf('sip:late@contoso.com') },
        ],
        [draft(AuditAction.sipDomainAdded, 'sip-domain:northwind.com')],
        [acceptedRequest('0190c0de-0000-7000-8000-0000000000bb', { operation: 'delete', sipAddress: sip('sip:late@contoso.com') })],
      );
      await assert.rejects(store.directory.commit(late), ConcurrencyError);

      // Nothing of the refused commit is anywhere: no state row, no change request, no audit row, no outbox row, head untouched.
      assert.deepEqual(await rowsOf(table), before);
      const keys = await rowKeysOf(table);
      for (const absent of [
        'domain|northwind.com',
        'address|contoso.com|late',
        'cr|0190c0de-0000-7000-8000-0000000000bb',
        'audit|999999999999996',
        'auditsub|sip-domain%3Anorthwind.com|999999999999996',
        'outbox|000000000000003',
      ]) {
        assert.equal(keys.includes(absent), false, `${absent} must not exist`);
      }
      assert.deepEqual((await store.directory.snapshot({})).head, current.head);
      assert.deepEqual(
        (await store.auditSearch.page({ limit: 10 })).items.map((r) => r.subject),
        ['sip-domain:fabrikam.com', 'sip-domain:contoso.com'],
      );
      assert.deepEqual(
        (await store.outbox.pending(10)).map((e) => e.data.sequence),
        [1, 2],
      );

      // The same commit on the current version goes through.
      await store.directory.commit({ ...late, expectedVersion: current.version });
      assert.deepEqual(
        (await store.directory.snapshot({ domains: [fqdn('northwind.com')] })).domains,
        new Map([['northwind.com', domainOf('northwind.com')]]),
      );
    });

    it('a commit whose head update succeeds but whose audit row collides is rolled back as a whole', async () => {
      const { store, table } = await newHarness();
      await store.directory.commit(
        commitOn(
          emptySnapshot,
          [{ type: 'putDomain', domain: domainOf('contoso.com') }],
          [draft(AuditAction.sipDomainAdded, 'sip-domain:contoso.com')],
        ),
      );
      const current = await store.directory.snapshot({});
      const before = await rowsOf(table);
      // Current version, but records chained on the genesis head: sequence 1 exists, so its create fails after the head update.
      const colliding = commitOn(
        { version: current.version, head: GENESIS_HEAD },
        [{ type: 'putDomain', domain: domainOf('fabrikam.com') }],
        [draft(AuditAction.sipDomainAdded, 'sip-domain:fabrikam.com')],
      );
      await assert.rejects(store.directory.commit(colliding), ConcurrencyError);
      assert.deepEqual(await rowsOf(table), before);
      assert.equal((await store.directory.snapshot({})).version, current.version, 'the head row was not rewritten');
    });

    it('a "first" commit (version "") on a store that already has a head is refused and writes nothing', async () => {
      const { store, table } = await newHarness();
      await store.directory.commit(
        commitOn(
          emptySnapshot,
          [{ type: 'putDomain', domain: domainOf('contoso.com') }],
          [draft(AuditAction.sipDomainAdded, 'sip-domain:contoso.com')],
        ),
      );
      const before = await rowsOf(table);
      await assert.rejects(
        store.directory.commit(
          commitOn(
            emptySnapshot,
            [{ type: 'putDomain', domain: domainOf('fabrikam.com') }],
            [draft(AuditAction.sipDomainAdded, 'sip-domain:fabrikam.com')],
          ),
        ),
        ConcurrencyError,
      );
      assert.deepEqual(await rowsOf(table), before);
    });

    for (const start of ['an empty store', 'an existing head'] as const) {
      it(`two concurrent commits from one snapshot of ${start}: exactly one wins`, async () => {
        const { store, table } = await newHarness();
        const earlier =
          start === 'an existing head'
            ? [
                commitOn(
                  emptySnapshot,
                  [{ type: 'putDomain', domain: domainOf('contoso.com') }],
                  [draft(AuditAction.sipDomainAdded, 'sip-domain:contoso.com')],
                ),
              ]
            : [];
        for (const commit of earlier) await store.directory.commit(commit);
        const base = await store.directory.snapshot({});
        const contenders = ['fabrikam.com', 'northwind.com'].map((name) =>
          commitOn(base, [{ type: 'putDomain', domain: domainOf(name) }], [draft(AuditAction.sipDomainAdded, `sip-domain:${name}`)]),
        );
        const outcomes = await Promise.allSettled(contenders.map((commit) => store.directory.commit(commit)));

        const winners = outcomes.flatMap((outcome, i) => (outcome.status === 'fulfilled' ? [contenders[i] as DirectoryCommit] : []));
        const losers = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
        assert.equal(winners.length, 1);
        assert.equal(losers.length, 1);
        assert.ok(losers[0] instanceof ConcurrencyError, `the loser fails with ConcurrencyError, got ${String(losers[0])}`);

        const winner = winners[0] as DirectoryCommit;
        const winnerDomain = (winner.writes[0] as { domain: SipDomain }).domain.name;
        const loserDomain = winnerDomain === 'fabrikam.com' ? 'northwind.com' : 'fabrikam.com';
        const after = await store.directory.snapshot({ domains: [fqdn('fabrikam.com'), fqdn('northwind.com')] });
        assert.deepEqual(after.head, winner.head);
        assert.deepEqual([...after.domains.keys()], [winnerDomain]);
        const keys = await rowKeysOf(table);
        assert.equal(keys.includes(`domain|${loserDomain}`), false);
        assert.deepEqual(
          await store.outbox.pending(10),
          [...earlier, winner].flatMap((commit) => commit.outbox),
        );
      });
    }

    it('one partition per deployment: another partition of the same table is invisible', async () => {
      const a = await newHarness('deployment-a');
      const b = createTableStore(a.table, 'deployment-b');
      await addSipDomain(a.deps, admin, fqdn('contoso.com'));
      assert.equal(await b.queries.isEmpty(), true);
      assert.deepEqual(await b.directory.snapshot({ domains: [fqdn('contoso.com')] }), {
        version: '',
        head: GENESIS_HEAD,
        domains: new Map(),
        pools: new Map(),
        holders: new Map(),
        changeRequests: new Map(),
        domainsInUse: new Set(),
        nextWaiting: new Map(),
      });
      assert.deepEqual(await b.auditSearch.page({ limit: 10 }), { items: [], nextCursor: null });
    });
  });

  describe('admission: tickets, lines and Idempotency-Keys', () => {
    const now = new Date(T0);
    const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);
    const deleteOf = (user: string): ChangeRequestBody => ({ operation: 'delete', sipAddress: sip(`sip:${user}@contoso.com`) });
    const waiting = (id: string, request: ChangeRequestBody) => acceptedRequest(id, request) as ValidChangeRequest;
    const key = (fingerprint: string, expiresAt = later(3600)) => ({
      scope: 'alice',
      key: 'retry-1',
      fingerprint,
      expiresAt: expiresAt.toISOString(),
    });

    it('draws consecutive tickets per address, records the request and its place in line, and reads the line head', async () => {
      const { store } = await newHarness();
      const ids = ['0190c0de-0000-7000-8000-0000000000a1', '0190c0de-0000-7000-8000-0000000000a2', '0190c0de-0000-7000-8000-0000000000a3'];
      const first = await store.admissions.admit(waiting(ids[0] as string, deleteOf('chat')), { now, redriveAt: later(30) });
      const other = await store.admissions.admit(waiting(ids[1] as string, deleteOf('other')), { now, redriveAt: later(30) });
      const second = await store.admissions.admit(waiting(ids[2] as string, deleteOf('chat')), { now, redriveAt: later(30) });

      assert.deepEqual(
        [first, other, second].map((a) => a.outcome === 'admitted' && a.changeRequest.ticket),
        [1, 1, 2],
      );
      assert.deepEqual(await store.queries.changeRequest(ids[2] as string), { ...waiting(ids[2] as string, deleteOf('chat')), ticket: 2 });
      const snapshot = await store.directory.snapshot({ waitingLists: [sip('sip:chat@contoso.com'), sip('sip:nobody@contoso.com')] });
      assert.deepEqual(
        [...snapshot.nextWaiting.entries()].map(([address, next]) => [address, next.id, next.ticket]),
        [['sip:chat@contoso.com', ids[0], 1]],
      );
    });

    it('a second admission with the same id returns the first request unchanged', async () => {
      const { store } = await newHarness();
      const request = waiting('0190c0de-0000-7000-8000-0000000000cc', deleteOf('chat'));
      await store.admissions.admit(request, { now, redriveAt: later(30) });
      const again = await store.admissions.admit({ ...request, actor: 'mallory' }, { now, redriveAt: later(30) });
      assert.equal(again.outcome, 'id-taken');
      assert.deepEqual(again.outcome === 'id-taken' && again.changeRequest, { ...request, ticket: 1 });
      assert.equal((await store.redrives.due(later(60), 10)).length, 1, 'still one place in line');
    });

    it('an unexpired Idempotency-Key returns what it admitted; an expired one is taken over', async () => {
      const { store } = await newHarness();
      const firstId = '0190c0de-0000-7000-8000-0000000000e1';
      await store.admissions.admit(waiting(firstId, deleteOf('chat')), { now, redriveAt: later(30), idempotency: key('f1', later(60)) });
      const retry = await store.admissions.admit(waiting('0190c0de-0000-7000-8000-0000000000e2', deleteOf('chat')), {
        now: later(59),
        redriveAt: later(90),
        idempotency: key('f2'),
      });
      assert.equal(retry.outcome, 'key-taken');
      assert.deepEqual(retry.outcome === 'key-taken' && [retry.idempotency.fingerprint, retry.idempotency.changeRequest.id], [
        'f1',
        firstId,
      ]);
      assert.equal(await store.queries.changeRequest('0190c0de-0000-7000-8000-0000000000e2'), undefined, 'nothing admitted for the retry');

      const afterExpiry = await store.admissions.admit(waiting('0190c0de-0000-7000-8000-0000000000e3', deleteOf('chat')), {
        now: later(61),
        redriveAt: later(90),
        idempotency: key('f3'),
      });
      assert.equal(afterExpiry.outcome, 'admitted');
      assert.equal(afterExpiry.outcome === 'admitted' && afterExpiry.changeRequest.ticket, 2);
    });

    it('20 concurrent admissions of one address draw tickets 1..20 with none lost; 20 with one Idempotency-Key admit one request', async () => {
      const { store, table } = await newHarness();
      // Each admission retries its lost races, as the use case does (without its in-process turns, so storage decides every race).
      const admit = (request: ValidChangeRequest, options: Parameters<typeof store.admissions.admit>[1]) =>
        retryWhileContended(() => store.admissions.admit(request, options));
      const results = await Promise.all(
        Array.from({ length: 20 }, () => admit(waiting(uuidv7(), deleteOf('chat')), { now, redriveAt: later(30) })),
      );
      assert.deepEqual(
        results.map((r) => (r.outcome === 'admitted' ? r.changeRequest.ticket : 0)).sort((a, b) => (a ?? 0) - (b ?? 0)),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );

      const keyed = await Promise.all(
        Array.from({ length: 20 }, () =>
          admit(waiting(uuidv7(), deleteOf('keyed')), { now, redriveAt: later(30), idempotency: key('same') }),
        ),
      );
      const admitted = keyed.filter((r) => r.outcome === 'admitted');
      assert.equal(admitted.length, 1);
      const admittedId = admitted[0]?.outcome === 'admitted' ? admitted[0].changeRequest.id : '';
      assert.deepEqual(
        new Set(
          keyed.map((r) =>
            r.outcome === 'key-taken' ? r.idempotency.changeRequest.id : r.outcome === 'admitted' ? r.changeRequest.id : 'other',
          ),
        ),
        new Set([admittedId]),
      );
      assert.equal((await rowKeysOf(table)).filter((k) => k.startsWith('pending|contoso.com|keyed|')).length, 1);
    });

    it('a settling commit gives up the place in line; the re-driver sees only requests due, and rescheduling a settled one does not revive it', async () => {
      const h = await newHarness();
      const a = waiting('0190c0de-0000-7000-8000-0000000000f1', deleteOf('a'));
      const b = waiting('0190c0de-0000-7000-8000-0000000000f2', deleteOf('b'));
      await h.store.admissions.admit(a, { now, redriveAt: later(30) });
      await h.store.admissions.admit(b, { now, redriveAt: later(90) });
      assert.deepEqual(
        (await h.store.redrives.due(later(60), 10)).map((p) => [p.changeRequest.id, p.changeRequest.ticket, p.sends]),
        [[a.id, 1, 1]],
      );

      const [due] = await h.store.redrives.due(later(60), 10);
      await h.store.redrives.postpone(due as never, later(120));
      assert.deepEqual(
        (await h.store.redrives.due(later(100), 10)).map((p) => p.changeRequest.id),
        [b.id],
      );
      assert.deepEqual(
        (await h.store.redrives.due(later(130), 10)).map((p) => [p.changeRequest.id, p.sends]),
        [
          [a.id, 2],
          [b.id, 1],
        ],
      );

      const base = await h.store.directory.snapshot({});
      const settled: ChangeRequest = { ...a, ticket: 1, status: ChangeRequestStatus.rejected, completedAt: T0, auditSequence: 1 };
      await h.store.directory.commit(commitOn(base, [], [draft(AuditAction.endpointDeleteRejected, a.request.sipAddress)], [settled]));
      assert.deepEqual(
        (await h.store.redrives.due(later(130), 10)).map((p) => p.changeRequest.id),
        [b.id],
      );
      await h.store.redrives.postpone(due as never, later(500));
      assert.deepEqual(
        (await h.store.redrives.due(later(1000), 10)).map((p) => p.changeRequest.id),
        [b.id],
        'the settled request stays out of line',
      );
    });

    it('purges only expired Idempotency-Keys, reading no live ones; a key taken over after expiry survives the purge of its old entry', async () => {
      const { store, table } = await newHarness();
      const keyRows = async () =>
        (await rowKeysOf(table))
          .filter((k) => k.startsWith('idem'))
          .map((k) => k.split('|')[0])
          .sort();
      await store.admissions.admit(waiting(uuidv7(), deleteOf('a')), {
        now,
        redriveAt: later(30),
        idempotency: { ...key('f'), key: 'old', expiresAt: later(10).toISOString() },
      });
      await store.admissions.admit(waiting(uuidv7(), deleteOf('b')), {
        now,
        redriveAt: later(30),
        idempotency: { ...key('f'), key: 'new', expiresAt: later(100).toISOString() },
      });
      await store.admissions.admit(waiting(uuidv7(), deleteOf('c')), {
        now,
        redriveAt: later(30),
        idempotency: { ...key('f'), key: 'reused', expiresAt: later(20).toISOString() },
      });
      const takeover = await store.admissions.admit(waiting(uuidv7(), deleteOf('c')), {
        now: later(25),
        redriveAt: later(60),
        idempotency: { ...key('g'), key: 'reused', expiresAt: later(200).toISOString() },
      });
      assert.equal(takeover.outcome, 'admitted');
      assert.deepEqual(await keyRows(), ['idem', 'idem', 'idem', 'idemexp', 'idemexp', 'idemexp']);

      assert.equal(await store.admissions.purgeExpiredIdempotencyKeys(later(50), 10), 1, 'only "old"');
      assert.deepEqual(await keyRows(), ['idem', 'idem', 'idemexp', 'idemexp']);
      assert.equal(await store.admissions.purgeExpiredIdempotencyKeys(later(50), 10), 0);
      const retry = await store.admissions.admit(waiting(uuidv7(), deleteOf('c')), {
        now: later(50),
        redriveAt: later(90),
        idempotency: { ...key('g'), key: 'reused', expiresAt: later(250).toISOString() },
      });
      assert.equal(retry.outcome, 'key-taken', 'the taken-over key still answers');
      assert.equal(await store.admissions.purgeExpiredIdempotencyKeys(later(300), 10), 2);
      assert.deepEqual(await keyRows(), []);
    });
  });

  describe('listEndpoints', () => {
    let h: Harness;
    const all: Endpoint[] = [];
    const endpoint = (sipAddress: string, poolFqdn: string, displayName: string | null, changeRequestId: string | null): Endpoint => ({
      kind: 'endpoint',
      sipAddress: sip(sipAddress),
      poolFqdn: fqdn(poolFqdn),
      displayName,
      isDefault: changeRequestId === null,
      createdAt: T0,
      changeRequestId,
    });

    before(async () => {
      h = await newHarness();
      await addSipDomain(h.deps, admin, fqdn('contoso.com'));
      await addSipDomain(h.deps, admin, fqdn('fabrikam.com'));
      await registerPool(h.deps, admin, fqdn('pool1.contoso.com'), sip('sip:default1@contoso.com'));
      await registerPool(h.deps, admin, fqdn('pool2.contoso.com'), sip('sip:default2@contoso.com'));
      await registerPool(h.deps, admin, fqdn('pool3.fabrikam.com'), sip('sip:default3@fabrikam.com'));
      await addDirectoryUser(h.deps, admin, sip('sip:ocschat@contoso.com'), 'Group Chat Room user');
      const chat1 = await create(h, 'sip:chat1@contoso.com', 'pool1.contoso.com', { displayName: 'Legacy Chat Room' });
      const chat2 = await create(h, 'sip:chat2@contoso.com', 'pool2.contoso.com', { displayName: 'Sales room' });
      const group = await create(h, 'sip:groupchat@fabrikam.com', 'pool3.fabrikam.com');
      assert.deepEqual([chat1.status, chat2.status, group.status], ['applied', 'applied', 'applied']);
      // Key order: address|<domain>|<user>.
      all.push(
        endpoint('sip:chat1@contoso.com', 'pool1.contoso.com', 'Legacy Chat Room', chat1.id),
        endpoint('sip:chat2@contoso.com', 'pool2.contoso.com', 'Sales room', chat2.id),
        endpoint('sip:default1@contoso.com', 'pool1.contoso.com', null, null),
        endpoint('sip:default2@contoso.com', 'pool2.contoso.com', null, null),
        endpoint('sip:default3@fabrikam.com', 'pool3.fabrikam.com', null, null),
        endpoint('sip:groupchat@fabrikam.com', 'pool3.fabrikam.com', null, group.id),
      );
    });

    const addresses = async (filter: EndpointFilter) => {
      const page = await h.store.queries.endpoints(filter);
      assert.equal(page.nextCursor, null);
      return page.items.map((e) => e.sipAddress);
    };

    it('lists every endpoint (never a directory user) exactly as stored', async () => {
      assert.deepEqual(await h.store.queries.endpoints({ limit: 100 }), { items: all, nextCursor: null });
    });

    it('filters by pool', async () => {
      assert.deepEqual(await addresses({ poolFqdn: fqdn('pool1.contoso.com'), limit: 100 }), [
        'sip:chat1@contoso.com',
        'sip:default1@contoso.com',
      ]);
      assert.deepEqual(await addresses({ poolFqdn: fqdn('pool3.fabrikam.com'), limit: 100 }), [
        'sip:default3@fabrikam.com',
        'sip:groupchat@fabrikam.com',
      ]);
      assert.deepEqual(await addresses({ poolFqdn: fqdn('nowhere.contoso.com'), limit: 100 }), []);
    });

    it('matches sipAddress with * wildcards, case-insensitively, and everything else literally', async () => {
      assert.deepEqual(await addresses({ sipAddress: 'sip:chat*@contoso.com', limit: 100 }), [
        'sip:chat1@contoso.com',
        'sip:chat2@contoso.com',
      ]);
      assert.deepEqual(await addresses({ sipAddress: 'SIP:DEFAULT*', limit: 100 }), [
        'sip:default1@contoso.com',
        'sip:default2@contoso.com',
        'sip:default3@fabrikam.com',
      ]);
      assert.deepEqual(await addresses({ sipAddress: '*@fabrikam.com', limit: 100 }), [
        'sip:default3@fabrikam.com',
        'sip:groupchat@fabrikam.com',
      ]);
      assert.deepEqual(await addresses({ sipAddress: 'sip:groupchat@fabrikam.com', limit: 100 }), ['sip:groupchat@fabrikam.com']);
      assert.deepEqual(await addresses({ sipAddress: 'sip:chat1@contoso', limit: 100 }), [], 'no implicit trailing wildcard');
      assert.deepEqual(await addresses({ sipAddress: 'sip:chat.@contoso.com', limit: 100 }), [], 'a dot is a dot, not any character');
      assert.deepEqual(await addresses({ sipAddress: 'sip:ocschat@contoso.com', limit: 100 }), [], 'a directory user is not an endpoint');
    });

    it('matches displayName with * wildcards; endpoints without a display name never match', async () => {
      assert.deepEqual(await addresses({ displayName: '*room', limit: 100 }), ['sip:chat1@contoso.com', 'sip:chat2@contoso.com']);
      assert.deepEqual(await addresses({ displayName: 'legacy*', limit: 100 }), ['sip:chat1@contoso.com']);
      assert.deepEqual(await addresses({ displayName: '*', limit: 100 }), ['sip:chat1@contoso.com', 'sip:chat2@contoso.com']);
      assert.deepEqual(await addresses({ displayName: 'Group Chat Room user', limit: 100 }), []);
    });

    it('combines pool and wildcard filters', async () => {
      assert.deepEqual(await addresses({ poolFqdn: fqdn('pool2.contoso.com'), sipAddress: 'sip:chat*', limit: 100 }), [
        'sip:chat2@contoso.com',
      ]);
      assert.deepEqual(await addresses({ poolFqdn: fqdn('pool2.contoso.com'), displayName: 'legacy*', limit: 100 }), []);
    });

    for (const limit of [1, 2, 4, 6]) {
      it(`pages with limit ${limit} visit every endpoint exactly once, in order`, async () => {
        const pages: string[][] = [];
        let cursor: string | undefined;
        do {
          const page = await h.store.queries.endpoints({ limit, ...(cursor ? { cursor } : {}) });
          assert.ok(page.items.length <= limit);
          pages.push(page.items.map((e) => e.sipAddress));
          cursor = page.nextCursor ?? undefined;
        } while (cursor !== undefined);
        assert.deepEqual(
          pages.flat(),
          all.map((e) => e.sipAddress),
        );
        assert.equal(pages.length, Math.ceil(all.length / limit));
      });
    }

    it("pages through a filtered listing: the cursor keeps the filter's place", async () => {
      const first = await h.store.queries.endpoints({ sipAddress: 'sip:default*', limit: 2 });
      assert.deepEqual(
        first.items.map((e) => e.sipAddress),
        ['sip:default1@contoso.com', 'sip:default2@contoso.com'],
      );
      assert.ok(first.nextCursor);
      const second = await h.store.queries.endpoints({ sipAddress: 'sip:default*', limit: 2, cursor: first.nextCursor });
      assert.deepEqual(second, { items: [all[4]], nextCursor: null });
    });

    it('refuses a cursor it did not issue with a ValidationError on #/cursor', async () => {
      const auditCursor = (await h.store.auditSearch.page({ limit: 1 })).nextCursor as string;
      for (const cursor of ['garbage!', Buffer.from('{"after":42}').toString('base64url'), auditCursor]) {
        await assert.rejects(h.store.queries.endpoints({ limit: 2, cursor }), (error: unknown) => {
          assert.ok(error instanceof ValidationError);
          assert.deepEqual(error.errors, [{ pointer: '#/cursor', detail: 'must be a cursor returned by a previous page' }]);
          return true;
        });
      }
    });
  });

  describe('listAudit', () => {
    let h: Harness;
    let log: AuditRecord[] = [];
    const at = (minute: number) => `2024-05-01T10:0${minute}:00.000Z`;
    const sequences = (records: AuditRecord[]) => records.map((r) => r.sequence);

    before(async () => {
      h = await newHarness();
      const step = async (minute: number, action: () => Promise<unknown>) => {
        h.clock.set(at(minute));
        await action();
      };
      await step(0, () => addSipDomain(h.deps, admin, fqdn('contoso.com'))); // 1
      await step(1, () => registerPool(h.deps, admin, fqdn('pcpool.contoso.com'), sip('sip:pcdefault@contoso.com'))); // 2
      await step(2, () => addDirectoryUser(h.deps, admin, sip('sip:ocschat@contoso.com'), null)); // 3
      await step(3, () => create(h, 'sip:chat@contoso.com', 'pcpool.contoso.com', { actor: 'bot' })); // 4
      await step(4, () => create(h, 'sip:chat@contoso.com', 'pcpool.contoso.com', { actor: 'bot' })); // 5 rejected
      await step(5, () => remove(h, 'sip:chat@contoso.com', 'alice')); // 6
      await step(6, () => create(h, 'sip:ocschat@contoso.com', 'pcpool.contoso.com', { actor: 'alice', replaceLegacyUser: true })); // 7
      // What was committed is what was published: the events carry the records.
      log = h.bus
        .bodies('auditEvents')
        .map((event) => (event as { data: AuditRecord }).data)
        .reverse();
      assert.deepEqual(sequences(log), [7, 6, 5, 4, 3, 2, 1]);
    });

    it('lists every record newest first, exactly as committed', async () => {
      assert.deepEqual(await h.store.auditSearch.page({ limit: 100 }), { items: log, nextCursor: null });
      assert.deepEqual(
        log.map((r) => [r.action, r.subject, r.actor, r.time]),
        [
          [AuditAction.endpointCreated, 'sip:ocschat@contoso.com', 'alice', at(6)],
          [AuditAction.endpointDeleted, 'sip:chat@contoso.com', 'alice', at(5)],
          [AuditAction.endpointCreateRejected, 'sip:chat@contoso.com', 'bot', at(4)],
          [AuditAction.endpointCreated, 'sip:chat@contoso.com', 'bot', at(3)],
          [AuditAction.directoryUserAdded, 'sip:ocschat@contoso.com', admin.actor, at(2)],
          [AuditAction.poolRegistered, 'pool:pcpool.contoso.com', admin.actor, at(1)],
          [AuditAction.sipDomainAdded, 'sip-domain:contoso.com', admin.actor, at(0)],
        ],
      );
    });

    it('filters by subject through the auditsub index', async () => {
      assert.deepEqual(sequences((await h.store.auditSearch.page({ subject: 'sip:chat@contoso.com', limit: 100 })).items), [6, 5, 4]);
      assert.deepEqual(sequences((await h.store.auditSearch.page({ subject: 'sip:ocschat@contoso.com', limit: 100 })).items), [7, 3]);
      assert.deepEqual(sequences((await h.store.auditSearch.page({ subject: 'pool:pcpool.contoso.com', limit: 100 })).items), [2]);
      assert.deepEqual(
        (await h.store.auditSearch.page({ subject: 'sip:chat@contoso.co', limit: 100 })).items,
        [],
        'a subject prefix is not a match',
      );
      assert.deepEqual(
        (await h.store.auditSearch.page({ subject: 'sip:chat@contoso.com', limit: 100 })).items,
        log.filter((r) => r.subject === 'sip:chat@contoso.com'),
      );
    });

    it('filters by action and by actor', async () => {
      assert.deepEqual(sequences((await h.store.auditSearch.page({ action: AuditAction.endpointCreated, limit: 100 })).items), [7, 4]);
      assert.deepEqual(sequences((await h.store.auditSearch.page({ action: AuditAction.endpointCreateRejected, limit: 100 })).items), [5]);
      assert.deepEqual(sequences((await h.store.auditSearch.page({ actor: 'bot', limit: 100 })).items), [5, 4]);
      assert.deepEqual(
        sequences((await h.store.auditSearch.page({ actor: 'alice', action: AuditAction.endpointDeleted, limit: 100 })).items),
        [6],
      );
      assert.deepEqual(
        sequences((await h.store.auditSearch.page({ subject: 'sip:chat@contoso.com', actor: 'bot', limit: 100 })).items),
        [5, 4],
      );
    });

    it('filters by outcome and by change request', async () => {
      assert.deepEqual(sequences((await h.store.auditSearch.page({ outcome: 'rejected', limit: 100 })).items), [5]);
      assert.deepEqual(sequences((await h.store.auditSearch.page({ outcome: 'applied', actor: 'bot', limit: 100 })).items), [4]);
      const rejected = log.find((r) => r.sequence === 5) as AuditRecord;
      assert.deepEqual(
        sequences((await h.store.auditSearch.page({ changeRequestId: rejected.changeRequestId as string, limit: 100 })).items),
        [5],
      );
      assert.deepEqual((await h.store.auditSearch.page({ changeRequestId: '0190c0de-0000-7000-8000-000000000000', limit: 100 })).items, []);
    });

    it('filters by a since/until window, both ends inclusive', async () => {
      assert.deepEqual(sequences((await h.store.auditSearch.page({ since: at(2), until: at(4), limit: 100 })).items), [5, 4, 3]);
      assert.deepEqual(sequences((await h.store.auditSearch.page({ since: at(5), limit: 100 })).items), [7, 6]);
      assert.deepEqual(sequences((await h.store.auditSearch.page({ until: at(1), limit: 100 })).items), [2, 1]);
      assert.deepEqual(
        sequences(
          (await h.store.auditSearch.page({ since: '2024-05-01T10:03:30.000Z', until: '2024-05-01T10:03:40.000Z', limit: 100 })).items,
        ),
        [],
      );
      assert.deepEqual(
        sequences((await h.store.auditSearch.page({ subject: 'sip:chat@contoso.com', since: at(4), limit: 100 })).items),
        [6, 5],
      );
    });

    it('pages newest first with a cursor, every record exactly once', async () => {
      const pages: number[][] = [];
      let cursor: string | undefined;
      do {
        const page = await h.store.auditSearch.page({ limit: 3, ...(cursor ? { cursor } : {}) });
        pages.push(sequences(page.items));
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      assert.deepEqual(pages, [[7, 6, 5], [4, 3, 2], [1]]);
    });

    it('pages within a subject and within a time window', async () => {
      const first = await h.store.auditSearch.page({ subject: 'sip:chat@contoso.com', limit: 2 });
      assert.deepEqual(sequences(first.items), [6, 5]);
      assert.deepEqual(
        sequences(
          (await h.store.auditSearch.page({ subject: 'sip:chat@contoso.com', limit: 2, cursor: first.nextCursor as string })).items,
        ),
        [4],
      );

      const windowed = await h.store.auditSearch.page({ since: at(1), until: at(5), limit: 2 });
      assert.deepEqual(sequences(windowed.items), [6, 5]);
      const rest = await h.store.auditSearch.page({ since: at(1), until: at(5), limit: 2, cursor: windowed.nextCursor as string });
      assert.deepEqual(sequences(rest.items), [4, 3]);
      const last = await h.store.auditSearch.page({ since: at(1), until: at(5), limit: 2, cursor: rest.nextCursor as string });
      assert.deepEqual({ ...last, items: sequences(last.items) }, { items: [2], nextCursor: null });
    });

    it('refuses a cursor from another subject or a garbage cursor', async () => {
      const other = (await h.store.auditSearch.page({ subject: 'sip:chat@contoso.com', limit: 1 })).nextCursor as string;
      await assert.rejects(h.store.auditSearch.page({ subject: 'sip:ocschat@contoso.com', limit: 1, cursor: other }), ValidationError);
      await assert.rejects(h.store.auditSearch.page({ limit: 1, cursor: 'not a cursor' }), ValidationError);
    });
  });

  describe('topology', () => {
    it('returns domains, pools with their default endpoint, and directory users (not admin endpoints)', async () => {
      const h = await newHarness();
      assert.deepEqual(await h.store.queries.topology(), { sipDomains: [], pools: [], users: [] });
      await addSipDomain(h.deps, admin, fqdn('contoso.com'));
      await addSipDomain(h.deps, admin, fqdn('fabrikam.com'));
      await registerPool(h.deps, admin, fqdn('pcpool.contoso.com'), sip('sip:pcdefault@contoso.com'));
      await registerPool(h.deps, admin, fqdn('pcpool.fabrikam.com'), sip('sip:pcdefault@fabrikam.com'));
      await addDirectoryUser(h.deps, admin, sip('sip:ocschat@contoso.com'), 'Group Chat');
      await addDirectoryUser(h.deps, admin, sip('sip:ocschat@fabrikam.com'), null);
      const created = await create(h, 'sip:chat@contoso.com', 'pcpool.contoso.com', { displayName: 'Chat' });
      assert.equal(created.status, 'applied');

      const contosoPool = {
        ...poolOf('pcpool.contoso.com', 'sip:pcdefault@contoso.com'),
        adminEndpointSipAddress: sip('sip:chat@contoso.com'),
      };
      const fabrikamPool = poolOf('pcpool.fabrikam.com', 'sip:pcdefault@fabrikam.com');
      assert.deepEqual(await h.store.queries.topology(), {
        sipDomains: [domainOf('contoso.com'), domainOf('fabrikam.com')],
        pools: [
          { ...contosoPool, defaultEndpoint: defaultEndpointOf(contosoPool) },
          { ...fabrikamPool, defaultEndpoint: defaultEndpointOf(fabrikamPool) },
        ],
        users: [userOf('sip:ocschat@contoso.com', 'Group Chat'), userOf('sip:ocschat@fabrikam.com')],
      });
    });
  });

  describe('outbox', () => {
    it('pendingEvents returns committed events in sequence order; markEventPublished drops one, idempotently', async () => {
      const { store, table } = await newHarness();
      const commit = commitOn(
        emptySnapshot,
        [
          { type: 'putDomain', domain: domainOf('contoso.com') },
          { type: 'putDomain', domain: domainOf('fabrikam.com') },
          { type: 'putDomain', domain: domainOf('northwind.com') },
        ],
        ['contoso.com', 'fabrikam.com', 'northwind.com'].map((name) => draft(AuditAction.sipDomainAdded, `sip-domain:${name}`)),
      );
      await store.directory.commit(commit);
      const [e1, e2, e3] = commit.outbox as [(typeof commit.outbox)[0], (typeof commit.outbox)[0], (typeof commit.outbox)[0]];

      assert.deepEqual(await store.outbox.pending(10), [e1, e2, e3]);
      assert.deepEqual(await store.outbox.pending(2), [e1, e2]);
      await store.outbox.markPublished(e2);
      assert.deepEqual(await store.outbox.pending(10), [e1, e3]);
      await store.outbox.markPublished(e2);
      assert.deepEqual(await store.outbox.pending(10), [e1, e3]);
      await store.outbox.markPublished(e1);
      await store.outbox.markPublished(e3);
      assert.deepEqual(await store.outbox.pending(10), []);

      // Publishing drops outbox rows only: audit rows and state stay.
      const keys = await rowKeysOf(table);
      assert.deepEqual(
        keys.filter((key) => key.startsWith('outbox|')),
        [],
      );
      assert.deepEqual(
        keys.filter((key) => key.startsWith('audit|')),
        ['audit|999999999999996', 'audit|999999999999997', 'audit|999999999999998'],
      );
    });

    it('a commit through commitDecision publishes its event and leaves the outbox empty', async () => {
      const h = await newHarness();
      const result = await addSipDomain(h.deps, admin, fqdn('contoso.com'));
      assert.deepEqual(await h.store.outbox.pending(10), []);
      assert.deepEqual(
        h.bus.sent.map((s) => [s.destination, s.message.messageId]),
        [['auditEvents', result.auditRecord?.id]],
      );
    });
  });

  describe('isEmpty', () => {
    it('is true until the first commit and false after', async () => {
      const h = await newHarness();
      assert.equal(await h.store.queries.isEmpty(), true);
      await addSipDomain(h.deps, admin, fqdn('contoso.com'));
      assert.equal(await h.store.queries.isEmpty(), false);
    });
  });
});
