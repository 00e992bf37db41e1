import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TableClient } from '@azure/data-tables';
import type { AuditRecord } from '../../shared/domain/audit';
import { InvariantError } from '../../shared/domain/errors';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import {
  EMPTY_STORE,
  NOW,
  aChangeRequest,
  aCommit,
  aDefaultEndpoint,
  aDeleteRequest,
  aDomain,
  anAuditDraft,
  fqdn,
  sip,
  aFirstCommit,
} from '../support/builders';
import { newTableStore, partitionRows } from '../support/storeHarness';

// What only the Table adapters have: the row layout of rowKeys.ts (which the README documents) and
// Table Storage's limits. What every store promises is in test/contract/store/, run on Azurite by
// test/contract/tableStore.contract.test.ts.

const PARTITION = 'deployment-a';

let azurite: TestAzurite;

/** The role adapters over a fresh table, with the raw table to read their rows. */
const newStore = () => newTableStore(azurite.connectionString, { partition: PARTITION });

/** Every row of the partition as { rowKey, data } (data parsed), in key order. */
async function rowsOf(table: TableClient): Promise<Array<{ rowKey: string; data: unknown }>> {
  return (await partitionRows(table, PARTITION)).map((row) => ({ rowKey: row.rowKey as string, data: JSON.parse(row.data as string) }));
}

const rowKeysOf = async (table: TableClient) => (await rowsOf(table)).map((row) => row.rowKey);

const now = new Date(NOW);
const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);

describe('the Table store on Azurite: row layout and limits', () => {
  before(async () => {
    azurite = await startTestAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });

  it('a first commit writes exactly its rows: head, state, change request, each record with its index rows, one outbox row per event', async () => {
    const { table, ...store } = await newStore();
    const { commit, pool, user, request } = aFirstCommit();
    await store.directory.commit(commit);

    // Exactly the rows of the commit: head, state, change request, per record its audit row and its
    // index rows (subject, actor, type, outcome, correlation; no change request here), one outbox row per event.
    const [first, second] = commit.audit as [AuditRecord, AuditRecord];
    assert.deepEqual(await rowsOf(table), [
      { rowKey: 'address|contoso.com|ocschat', data: user },
      { rowKey: 'address|contoso.com|pchat-default', data: aDefaultEndpoint(pool) },
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
      // The listings' index rows (newest first: 998285442399999 is 2024-05-01T10:00:00Z inverted, in ms).
      ...['actor|alice', 'address|contoso.com|chat', 'all', 'operation|create', 'status|accepted'].map((index) => ({
        rowKey: `crix|${index}|998285442399999|${request.id}`,
        data: request,
      })),
      { rowKey: `cr|${request.id}`, data: request },
      { rowKey: 'domain|contoso.com', data: aDomain() },
      { rowKey: 'head', data: commit.head },
      { rowKey: 'outbox|000000000000001', data: commit.outbox[0] },
      { rowKey: 'outbox|000000000000002', data: commit.outbox[1] },
      { rowKey: 'pool|pcpool.contoso.com', data: pool },
    ]);
  });

  it('publishing an event deletes its outbox row only: the audit rows stay', async () => {
    const { table, ...store } = await newStore();
    const domains = ['contoso.com', 'fabrikam.com', 'northwind.com'];
    const commit = aCommit(EMPTY_STORE, {
      writes: domains.map((name) => ({ type: 'putDomain', domain: aDomain({ name: fqdn(name) }) })),
      drafts: domains.map((name) => anAuditDraft({ subject: `sip-domain:${name}` })),
    });
    await store.directory.commit(commit);
    for (const event of commit.outbox) await store.outbox.markPublished(event);

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

  it('an Idempotency-Key is an idem row and an idemexp entry; a takeover moves the entry, and a purge deletes both', async () => {
    const { table, ...store } = await newStore();
    const keyRows = async () =>
      (await rowKeysOf(table))
        .filter((k) => k.startsWith('idem'))
        .map((k) => k.split('|')[0])
        .sort();
    const admit = (user: string, at: Date, key: string, expiresAt: Date) =>
      store.admissions.admit(aChangeRequest({ request: aDeleteRequest({ sipAddress: sip(`sip:${user}@contoso.com`) }) }), {
        now: at,
        redriveAt: later(30),
        idempotency: { scope: 'alice', key, fingerprint: `${key}@${at.toISOString()}`, expiresAt: expiresAt.toISOString() },
      });
    await admit('a', now, 'old', later(10));
    await admit('b', now, 'new', later(100));
    await admit('c', now, 'reused', later(20));
    assert.equal((await admit('c', later(25), 'reused', later(200))).outcome, 'admitted');
    assert.deepEqual(await keyRows(), ['idem', 'idem', 'idem', 'idemexp', 'idemexp', 'idemexp']);

    assert.equal(await store.admissions.purgeExpiredIdempotencyKeys(later(50), 10), 1);
    assert.deepEqual(await keyRows(), ['idem', 'idem', 'idemexp', 'idemexp']);
    assert.equal(await store.admissions.purgeExpiredIdempotencyKeys(later(300), 10), 2);
    assert.deepEqual(await keyRows(), []);
  });

  it('a commit of more actions than one entity-group transaction takes, 100, is refused with InvariantError and writes nothing', async () => {
    const { table, ...store } = await newStore();
    const domains = Array.from({ length: 100 }, (_, i) => aDomain({ name: fqdn(`d${i}.contoso.com`) }));
    // The head and 100 domains: 101 actions.
    const commit = aCommit(EMPTY_STORE, { writes: domains.map((domain) => ({ type: 'putDomain', domain })) });
    await assert.rejects(store.directory.commit(commit), InvariantError);
    assert.deepEqual(await rowsOf(table), []);

    await store.directory.commit({ ...commit, writes: commit.writes.slice(0, 99) });
    assert.equal((await rowKeysOf(table)).length, 100, 'the head and 99 domains');
  });
});
