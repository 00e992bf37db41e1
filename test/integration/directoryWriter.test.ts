import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { TableClient, TransactionAction } from '@azure/data-tables';
import { openTableStore } from '../../shared/adapters/tables/tableStore';
import type { DirectoryTableClient } from '../../shared/adapters/tables/partitionTable';
import { SWEEP_AFTER_MS } from '../../shared/adapters/tables/publishedOutbox';
import { admissionOptions, admit } from '../../shared/application/changeRequests/admission';
import { applyChangeRequest, type QueuedChangeRequest } from '../../shared/application/changeRequests/applyChangeRequest';
import { KeyedMutex } from '../../shared/application/keyedMutex';
import { addSipDomain, registerPool, removeSipDomain } from '../../shared/application/topology';
import { ChangeRequestStatus } from '../../shared/domain/changeRequest';
import { RejectionCode } from '../../shared/domain/codes';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { aChangeRequest, aQueuedCreate, aQueuedDelete, fqdn, sip } from '../support/builders';
import { newStoreHarness, partitionRows, type StoreHarness } from '../support/storeHarness';

/**
 * The directory's writer (shared/application/directoryWriter.ts) and its cache
 * (shared/adapters/tables/directoryCache.ts): what one process keeps between commits must never
 * decide anything another process has changed, and decisions waiting together commit together.
 */

const admin = { actor: 'admin@contoso.com', correlationId: 'corr-writer' };

let azurite: TestAzurite;

/** The table calls a harness makes: its transactions (with their actions), single-row deletes, point reads (row keys) and queries (filters). */
interface Calls {
  transactions: TransactionAction[][];
  deletes: string[];
  rows: string[];
  queries: string[];
}

const noCalls = (): Calls => ({ transactions: [], deletes: [], rows: [], queries: [] });

function recording(table: TableClient, calls: Calls): DirectoryTableClient {
  return {
    createTable: table.createTable.bind(table),
    createEntity: table.createEntity.bind(table),
    updateEntity: table.updateEntity.bind(table),
    getEntity: (partitionKey: string, rowKey: string, options?: object) => {
      calls.rows.push(rowKey);
      return table.getEntity(partitionKey, rowKey, options);
    },
    listEntities: (options?: Parameters<TableClient['listEntities']>[0]) => {
      calls.queries.push(String(options?.queryOptions?.filter));
      return table.listEntities(options);
    },
    deleteEntity: (partitionKey: string, rowKey: string, options?: object) => {
      calls.deletes.push(rowKey);
      return table.deleteEntity(partitionKey, rowKey, options);
    },
    submitTransaction: (actions: TransactionAction[]) => {
      calls.transactions.push(actions);
      return table.submitTransaction(actions);
    },
  };
}

/** Admits a queued request as HTTP admission does (its ticket drawn, its message not sent); resolves with its ticket. */
async function admitted(h: StoreHarness, command: QueuedChangeRequest): Promise<number | null> {
  const request = aChangeRequest({ id: command.changeRequestId, request: command.request, correlationId: command.correlationId });
  const admission = await admit(h, request, admissionOptions(h, new Date()));
  assert.equal(admission.outcome, 'admitted');
  return admission.outcome === 'admitted' ? admission.changeRequest.ticket : null;
}

/** A harness, and a second one over the same partition as another process would have it: its own cache, outbox and writer. */
async function twoProcesses(): Promise<{ one: StoreHarness; two: StoreHarness }> {
  const one = await newStoreHarness(azurite.connectionString);
  const two = { ...one, ...(await openTableStore(one.table, 'default')), mutex: new KeyedMutex() };
  return { one, two };
}

async function seed(h: StoreHarness, pools: number): Promise<void> {
  await addSipDomain(h, admin, fqdn('contoso.com'));
  for (let n = 1; n <= pools; n++) await registerPool(h, admin, fqdn(`pool${n}.contoso.com`), sip(`sip:default${n}@contoso.com`));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the directory writer on Azurite', () => {
  before(async () => {
    azurite = await startTestAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });

  describe('what a process caches is never trusted past another process commit', () => {
    it('a decision on a cache another process made stale is refused by the head ETag and decided again', async () => {
      const { one, two } = await twoProcesses();
      await seed(one, 1);
      // Process one creates the pool's endpoint and so caches the pool as taken.
      assert.equal((await applyChangeRequest(one, aQueuedCreate('sip:first@contoso.com', 'pool1.contoso.com'))).status, 'applied');
      // Process two frees the pool.
      assert.equal((await applyChangeRequest(two, aQueuedDelete('sip:first@contoso.com'))).status, 'applied');

      // On its cache alone, process one would refuse this create with pool_has_endpoint.
      const second = await applyChangeRequest(one, aQueuedCreate('sip:second@contoso.com', 'pool1.contoso.com'));

      assert.equal(second.status, ChangeRequestStatus.applied, JSON.stringify(second.reason));
      const pool = (await one.queries.topology()).pools.find((p) => p.fqdn === 'pool1.contoso.com');
      assert.equal(pool?.adminEndpointSipAddress, 'sip:second@contoso.com', 'the pool names the endpoint created last');
      const sequences = (await one.auditSearch.page({ limit: 10 })).items.map((record) => record.sequence);
      assert.deepEqual(sequences, [5, 4, 3, 2, 1], 'one record per change, in one chain');
    });

    it('a decision that writes nothing is checked against the head as it stands, not the cache', async () => {
      const { one, two } = await twoProcesses();
      await addSipDomain(one, admin, fqdn('fabrikam.com'));
      await removeSipDomain(two, admin, fqdn('fabrikam.com'));

      // Process one still caches the domain as present: "unchanged" would be wrong.
      const added = await addSipDomain(one, admin, fqdn('fabrikam.com'));

      assert.equal(added.outcome, 'created');
      assert.deepEqual(
        (await one.queries.topology()).sipDomains.map((domain) => domain.name),
        ['fabrikam.com'],
        'the domain is there again',
      );
    });

    it('a request admitted after its address was read as having nobody waiting is still found', async () => {
      const { one, two } = await twoProcesses();
      await seed(one, 2);
      await applyChangeRequest(one, aQueuedCreate('sip:lined@contoso.com', 'pool1.contoso.com'));
      // Admitted and applied by the other process: its waiting list and record were never in one's cache.
      const other = aQueuedDelete('sip:lined@contoso.com');
      await applyChangeRequest(two, other);
      const again = await applyChangeRequest(one, aQueuedCreate('sip:lined@contoso.com', 'pool2.contoso.com'));
      assert.equal(again.status, ChangeRequestStatus.applied, JSON.stringify(again.reason));
      assert.equal((await one.queries.changeRequest(other.changeRequestId))?.status, ChangeRequestStatus.applied);
    });
  });

  describe('a request is read from its waiting list when it is next', () => {
    it('a message naming a request nobody admitted (automation choosing its own id) is admitted, then applied, once', async () => {
      const h = await newStoreHarness(azurite.connectionString);
      await seed(h, 1);
      const command = { ...aQueuedCreate('sip:named@contoso.com', 'pool1.contoso.com'), requestNamed: true };

      const [first, again] = [await applyChangeRequest(h, command), await applyChangeRequest(h, command)];

      assert.equal(first.status, ChangeRequestStatus.applied);
      assert.deepEqual(again, first, 'the redelivery finds it settled');
      assert.deepEqual(
        (await h.auditSearch.page({ limit: 10 })).items.filter((record) => record.changeRequestId === command.changeRequestId).length,
        1,
      );
    });
  });

  describe('pools, being few, are read all at once', () => {
    it('a process that knows no pool reads them all in one query, then knows which exist without reading', async () => {
      const one = await newStoreHarness(azurite.connectionString);
      await seed(one, 5);
      const reads = noCalls();
      const two = { ...one, ...(await openTableStore(recording(one.table, reads), 'default')), mutex: new KeyedMutex() };
      const commands = [1, 2, 3, 4, 5].map((n) => aQueuedCreate(`sip:cold${n}@contoso.com`, `pool${n}.contoso.com`));

      const settled = await Promise.all(commands.map((command) => applyChangeRequest(two, command)));
      const nowhere = await applyChangeRequest(two, aQueuedCreate('sip:nowhere@contoso.com', 'pool9.contoso.com'));

      assert.deepEqual(
        settled.map((request) => request.status),
        commands.map(() => ChangeRequestStatus.applied),
      );
      assert.equal(nowhere.status, ChangeRequestStatus.rejected);
      assert.equal(nowhere.reason?.code, RejectionCode.poolNotFound);
      assert.deepEqual(
        reads.rows.filter((key) => key.startsWith('pool|')),
        [],
        'no pool was read on its own',
      );
      assert.equal(reads.queries.filter((filter) => filter.includes("'pool|'")).length, 1, 'one query read every pool');
    });

    it('a pool another process registers after this one read them all is found', async () => {
      const { one, two } = await twoProcesses();
      await seed(one, 1);
      assert.equal((await applyChangeRequest(two, aQueuedCreate('sip:early@contoso.com', 'pool1.contoso.com'))).status, 'applied');
      await registerPool(one, admin, fqdn('late.contoso.com'), sip('sip:defaultlate@contoso.com'));

      const late = await applyChangeRequest(two, aQueuedCreate('sip:late@contoso.com', 'late.contoso.com'));

      assert.equal(late.status, ChangeRequestStatus.applied, JSON.stringify(late.reason));
    });
  });

  describe('an admission in this process', () => {
    it('admits a create of a new address without reading its counter, and the writer takes the request from memory', async () => {
      const reads = noCalls();
      const h = await newStoreHarness(azurite.connectionString, { wrapClient: (table) => recording(table, reads) });
      await seed(h, 1);
      const command = { ...aQueuedCreate('sip:fresh@contoso.com', 'pool1.contoso.com'), requestNamed: true };
      reads.rows.length = reads.queries.length = 0;

      assert.equal(await admitted(h, command), 1);
      assert.deepEqual([reads.rows, reads.queries], [[], []], 'admission read nothing');
      const settled = await applyChangeRequest(h, command);

      assert.equal(settled.status, ChangeRequestStatus.applied, JSON.stringify(settled.reason));
      assert.deepEqual(reads.queries, [], 'the waiting list was not read');
      assert.deepEqual(reads.rows, ['address|contoso.com|fresh'], 'only the address was read: its pool and domain were in memory');
      assert.equal((await h.queries.changeRequest(command.changeRequestId))?.status, ChangeRequestStatus.applied);
    });

    it('another process finds a create at its first ticket with one read, and a later request by searching the list', async () => {
      const one = await newStoreHarness(azurite.connectionString);
      await seed(one, 1);
      const reads = noCalls();
      const two = { ...one, ...(await openTableStore(recording(one.table, reads), 'default')), mutex: new KeyedMutex() };
      const create = { ...aQueuedCreate('sip:elsewhere@contoso.com', 'pool1.contoso.com'), requestNamed: true };
      const removal = { ...aQueuedDelete('sip:elsewhere@contoso.com'), requestNamed: true };
      assert.deepEqual([await admitted(one, create), await admitted(one, removal)], [1, 2]);

      const created = await applyChangeRequest(two, create);
      const queriesForCreate = reads.queries.filter((filter) => filter.includes('pending|'));
      const removed = await applyChangeRequest(two, removal);

      assert.equal(created.status, ChangeRequestStatus.applied, JSON.stringify(created.reason));
      assert.equal(removed.status, ChangeRequestStatus.applied, JSON.stringify(removed.reason));
      assert.ok(reads.rows.includes('pending|contoso.com|elsewhere|000000000000001'), 'the first ticket was read in its place');
      assert.deepEqual(queriesForCreate, [], 'the create searched no list');
      assert.equal(reads.queries.filter((filter) => filter.includes('pending|')).length, 1, 'the delete, second in line, searched it');
    });

    it('admits a create of an address used before after its counter, and settles it in its turn', async () => {
      const h = await newStoreHarness(azurite.connectionString);
      await seed(h, 2);
      const [first, removal, again] = [
        { ...aQueuedCreate('sip:reused@contoso.com', 'pool1.contoso.com'), requestNamed: true },
        { ...aQueuedDelete('sip:reused@contoso.com'), requestNamed: true },
        { ...aQueuedCreate('sip:reused@contoso.com', 'pool2.contoso.com'), requestNamed: true },
      ];
      // Three tickets drawn before any is settled: the third create finds the counter the first made.
      assert.deepEqual([await admitted(h, first), await admitted(h, removal), await admitted(h, again)], [1, 2, 3]);

      // Delivered last first: each waits for the requests ahead of it.
      const settled = [await applyChangeRequest(h, again), await applyChangeRequest(h, removal), await applyChangeRequest(h, first)];

      assert.deepEqual(
        settled.map((request) => request.status),
        [ChangeRequestStatus.applied, ChangeRequestStatus.applied, ChangeRequestStatus.applied],
      );
      const endpoint = (await h.queries.topology()).pools.find((pool) => pool.fqdn === 'pool2.contoso.com');
      assert.equal(endpoint?.adminEndpointSipAddress, 'sip:reused@contoso.com', 'the address ends on the pool of the last create');
      assert.deepEqual(
        [first, removal, again].map((command) => settled.find((request) => request.id === command.changeRequestId)?.auditSequence),
        [4, 5, 6],
        'settled in ticket order',
      );
    });

    it('two processes admitting creates of one new address at once draw tickets 1 and 2, and the second waits for the first', async () => {
      const { one, two } = await twoProcesses();
      await seed(one, 2);
      const [a, b] = [
        { ...aQueuedCreate('sip:contested@contoso.com', 'pool1.contoso.com'), requestNamed: true },
        { ...aQueuedCreate('sip:contested@contoso.com', 'pool2.contoso.com'), requestNamed: true },
      ];

      const tickets = await Promise.all([admitted(one, a), admitted(two, b)]);

      assert.deepEqual([...tickets].sort(), [1, 2]);
      const [firstCommand, secondCommand] = tickets[0] === 1 ? [a, b] : [b, a];
      // The second, delivered first to the process that did not admit the first, settles the first before itself.
      const second = await applyChangeRequest(tickets[0] === 1 ? two : one, secondCommand);
      assert.equal(second.status, ChangeRequestStatus.rejected);
      assert.equal(second.reason?.code, RejectionCode.sipAddressHeldByEndpoint);
      assert.equal((await one.queries.changeRequest(firstCommand.changeRequestId))?.status, ChangeRequestStatus.applied);
    });
  });

  describe('decisions waiting together commit together', () => {
    it('twenty concurrent creates on twenty pools commit in fewer transactions, each applied with its own record', async () => {
      const calls = noCalls();
      const h = await newStoreHarness(azurite.connectionString, { wrapClient: (table) => recording(table, calls) });
      await seed(h, 20);
      const commands = Array.from({ length: 20 }, (_, i) => aQueuedCreate(`sip:grouped${i}@contoso.com`, `pool${i + 1}.contoso.com`));
      calls.transactions.length = 0;

      const settled = await Promise.all(commands.map((command) => applyChangeRequest(h, command)));

      assert.deepEqual(
        settled.map((request) => request.status),
        commands.map(() => ChangeRequestStatus.applied),
      );
      const commits = calls.transactions.filter((actions) => actions.some(([, entity]) => entity.rowKey === 'head'));
      const carried = commits.map((actions) => actions.filter(([, entity]) => entity.rowKey.startsWith('cr|')).length);
      assert.equal(
        carried.reduce((a, b) => a + b, 0),
        20,
        'every request is settled by exactly one commit',
      );
      assert.ok(
        carried.some((count) => count > 1),
        `some commit carries several changes (changes per commit: ${carried.join(', ')})`,
      );
      assert.ok(
        commits.every((actions) => actions.length <= 100),
        'no commit exceeds the transaction limit',
      );
      // One chain, one record per request, each request's sequence its record's.
      const log = (await h.auditSearch.page({ limit: 100 })).items;
      assert.deepEqual(
        log.map((record) => record.sequence),
        Array.from({ length: 21 + 20 }, (_, i) => 41 - i),
      );
      const records = log.filter((record) => record.changeRequestId !== null);
      assert.equal(records.length, 20);
      assert.deepEqual(new Set(records.map((record) => record.changeRequestId)), new Set(commands.map((c) => c.changeRequestId)));
      for (const request of settled) {
        assert.equal(records.find((record) => record.changeRequestId === request.id)?.sequence, request.auditSequence);
      }
    });

    it('a change whose commit fails fails alone; the changes grouped with it are applied', async () => {
      const h = await newStoreHarness(azurite.connectionString);
      await seed(h, 6);
      const doomed = 'sip:doomed@contoso.com';
      const failing = {
        ...h,
        directory: {
          snapshot: h.directory.snapshot.bind(h.directory),
          fits: h.directory.fits.bind(h.directory),
          commit: async (commit: Parameters<StoreHarness['directory']['commit']>[0]) => {
            if (commit.writes.some((write) => write.type === 'putHolder' && write.holder.sipAddress === doomed))
              throw new Error('simulated storage fault');
            return h.directory.commit(commit);
          },
        },
      };
      const commands = [
        aQueuedCreate('sip:fine1@contoso.com', 'pool1.contoso.com'),
        aQueuedCreate('sip:fine2@contoso.com', 'pool2.contoso.com'),
        aQueuedCreate(doomed, 'pool3.contoso.com'),
        aQueuedCreate('sip:fine4@contoso.com', 'pool4.contoso.com'),
        aQueuedCreate('sip:fine5@contoso.com', 'pool5.contoso.com'),
      ];

      const outcomes = await Promise.allSettled(commands.map((command) => applyChangeRequest(failing, command)));

      assert.deepEqual(
        outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.status : String(outcome.reason))),
        ['applied', 'applied', 'Error: simulated storage fault', 'applied', 'applied'],
      );
      const doomedRequest = await h.queries.changeRequest(commands[2]!.changeRequestId);
      assert.equal(doomedRequest?.status, ChangeRequestStatus.accepted, 'the failed one is still waiting, for a redelivery');
      assert.equal(await h.queries.holder(sip(doomed)), undefined);
    });

    it('creates of one address queue behind each other and settle in the order accepted', async () => {
      const h = await newStoreHarness(azurite.connectionString);
      await seed(h, 3);
      const commands = [1, 2, 3].map((n) => aQueuedCreate('sip:contested@contoso.com', `pool${n}.contoso.com`));

      const settled = await Promise.all(commands.map((command) => applyChangeRequest(h, command)));

      const applied = settled.filter((request) => request.status === ChangeRequestStatus.applied);
      const rejected = settled.filter((request) => request.status === ChangeRequestStatus.rejected);
      assert.equal(applied.length, 1);
      assert.deepEqual(
        rejected.map((request) => request.reason?.code),
        [RejectionCode.sipAddressHeldByEndpoint, RejectionCode.sipAddressHeldByEndpoint],
      );
      assert.ok(
        rejected.every((request) => (request.ticket ?? 0) > (applied[0]?.ticket ?? 0)),
        'the lowest ticket is the one applied',
      );
    });
  });

  describe('published events leave the outbox without round trips of their own', () => {
    it('the next commit deletes the rows of the events published before it', async () => {
      const calls = noCalls();
      const h = await newStoreHarness(azurite.connectionString, { wrapClient: (table) => recording(table, calls) });
      await addSipDomain(h, admin, fqdn('contoso.com'));
      await addSipDomain(h, admin, fqdn('fabrikam.com'));

      const second = calls.transactions.at(-1) ?? [];
      assert.deepEqual(
        second.filter(([kind]) => kind === 'delete').map(([, entity]) => entity.rowKey),
        ['outbox|000000000000001'],
        "the second commit carries the first event's delete",
      );
      assert.deepEqual(calls.deletes, [], 'no delete of its own');
      assert.deepEqual(await h.outbox.pending(10), [], 'neither event is pending');
    });

    it('a carried row another instance deleted first does not fail the commit', async () => {
      const calls = noCalls();
      const h = await newStoreHarness(azurite.connectionString, { wrapClient: (table) => recording(table, calls) });
      await addSipDomain(h, admin, fqdn('contoso.com'));
      // Another instance's re-driver published the event again and deleted its row.
      await h.table.deleteEntity('default', 'outbox|000000000000001');

      const added = await addSipDomain(h, admin, fqdn('fabrikam.com'));

      assert.equal(added.outcome, 'created');
      assert.deepEqual(
        calls.transactions.slice(-2).map((actions) => actions.filter(([kind]) => kind === 'delete').length),
        [1, 0],
        'refused with the delete (404), submitted again without it',
      );
      assert.deepEqual(
        (await h.auditSearch.page({ limit: 10 })).items.map((record) => record.sequence),
        [2, 1],
      );
    });

    it('with no commit to carry them, the rows are deleted within a second or so', async () => {
      const calls = noCalls();
      const h = await newStoreHarness(azurite.connectionString, { wrapClient: (table) => recording(table, calls) });
      await addSipDomain(h, admin, fqdn('contoso.com'));
      assert.deepEqual(await h.outbox.pending(10), []);

      await sleep(SWEEP_AFTER_MS + 500);

      assert.deepEqual(calls.deletes, ['outbox|000000000000001']);
      const rows = await partitionRows(h.table, 'default');
      assert.deepEqual(
        rows.filter((row) => row.rowKey?.startsWith('outbox|')),
        [],
      );
    });
  });
});
