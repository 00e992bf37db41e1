import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TableClient, type TableEntityResult } from '@azure/data-tables';
import { migrateToCurrentLayout } from '../../shared/adapters/tables/canonicalAddressMigration';
import { PartitionTable, type DirectoryTableClient } from '../../shared/adapters/tables/partitionTable';
import { LAYOUT_VERSION } from '../../shared/adapters/tables/rowKeys';
import { openTableStore } from '../../shared/adapters/tables/tableStore';
import { verifyAuditLog } from '../../shared/application/audit/verifyAuditLog';
import type { ScheduledRedrive } from '../../shared/application/ports/redriveSchedule';
import { AuditAction, type AuditRecord } from '../../shared/domain/audit';
import type { ChangeRequest } from '../../shared/domain/changeRequest';
import type { Endpoint, PersistentChatPool } from '../../shared/domain/directory';
import type { SipAddress } from '../../shared/domain/names';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import {
  EARLIER,
  EMPTY_STORE,
  NOW,
  aChangeRequest,
  aCommit,
  aDeleteRequest,
  aDomain,
  aPool,
  aUser,
  anAuditDraft,
  anEndpoint,
  fqdn,
  sip,
} from '../support/builders';
import { freshTableName, partitionRows, recordingLog } from '../support/storeHarness';

// The step from layout 1 to 2 (canonical SIP addresses, bounded key parts) on Azurite. Layout-1 rows
// are what the code before it wrote: addresses as given (only lower-cased) and key parts encoded
// whatever their length. The test writes them through today's adapters where those wrote the same
// keys (short values encode as before), and with the SDK where they did not.

const P = 'default';
const as = (value: string) => value as SipAddress;
/** Spellings the old schema kept apart: each is one address in canonical form. */
const ESCAPED_ENDPOINT = as('sip:p%65rsistentchat@contoso.com');
const ESCAPED_TWIN = as('sip:ocs%63hat@contoso.com');
const ESCAPED_WAITING = as('sip:w%61iting@contoso.com');
/** An actor the old keys held readable (256 characters) and keyPart now hashes. */
const LONG_ACTOR = 'x'.repeat(256);

type Stored = TableEntityResult<Record<string, unknown>>;

/** A row as content: every property but the ETag and the service's timestamp. */
const contentOf = ({ etag: _etag, timestamp: _timestamp, ...content }: Stored) => content;
const byKey = (rows: Stored[]) => new Map(rows.map((row) => [row.rowKey as string, row]));
const dataOf = <T>(row: Stored | undefined): T => JSON.parse(row?.data as string) as T;

/** Moves a row to another key with the SDK, every property unchanged: how layout 1 keyed what today's code keys otherwise. */
async function moveRow(table: TableClient, from: string, to: string): Promise<void> {
  const row = await table.getEntity<Record<string, unknown>>(P, from);
  const { etag: _etag, timestamp: _timestamp, ...content } = row;
  await table.createEntity({ ...content, partitionKey: P, rowKey: to });
  await table.deleteEntity(P, from);
}

/** Drops the head's version column (a layout-1 head never had one). */
async function asLayoutOne(table: TableClient): Promise<void> {
  const {
    etag: _etag,
    timestamp: _timestamp,
    schemaVersion: _version,
    ...head
  } = await table.getEntity<Record<string, unknown>>(P, 'head');
  await table.updateEntity({ ...head, partitionKey: P, rowKey: 'head' }, 'Replace');
}

/** A partition as layout 1 left it: two spellings of sip:ocschat held twice, escaped addresses everywhere they were kept. */
async function aLayoutOnePartition(connectionString: string) {
  const table = TableClient.fromConnectionString(connectionString, freshTableName('migration'), { allowInsecureConnection: true });
  const store = await openTableStore(table, P);
  const pool = aPool({ adminEndpointSipAddress: ESCAPED_ENDPOINT });
  const pool2 = aPool({ fqdn: fqdn('pcpool2.contoso.com'), defaultEndpointSipAddress: sip('sip:pcpool2@contoso.com') });
  const user = aUser({ sipAddress: sip('sip:ocschat@contoso.com'), addedAt: EARLIER });
  const endpoint = anEndpoint({ sipAddress: ESCAPED_ENDPOINT, poolFqdn: pool.fqdn, createdAt: NOW });
  const twin = anEndpoint({ sipAddress: ESCAPED_TWIN, poolFqdn: pool2.fqdn, createdAt: NOW, displayName: 'the second holder' });
  const commit = aCommit(EMPTY_STORE, {
    writes: [
      { type: 'putDomain', domain: aDomain() },
      { type: 'putPool', pool },
      { type: 'putPool', pool: { ...pool2, adminEndpointSipAddress: ESCAPED_TWIN } },
      { type: 'putHolder', holder: user },
      { type: 'putHolder', holder: endpoint },
      { type: 'putHolder', holder: twin },
    ],
    drafts: [
      anAuditDraft({ action: AuditAction.directoryUserAdded, subject: user.sipAddress }),
      anAuditDraft({ action: AuditAction.endpointCreated, subject: ESCAPED_ENDPOINT }),
      anAuditDraft({ action: AuditAction.endpointCreated, subject: ESCAPED_TWIN, actor: LONG_ACTOR }),
    ],
  });
  await store.directory.commit(commit);
  const waiting = aChangeRequest({ request: aDeleteRequest({ sipAddress: ESCAPED_WAITING }) });
  await store.admissions.admit(waiting, { now: new Date(NOW), redriveAt: new Date(NOW) });

  // Today's keys differ from layout 1's for the subject index (subjects are keyed canonically) and
  // for the long actor (hashed): put those rows back where layout 1 had them.
  const [, endpointRecord, twinRecord] = commit.audit as [AuditRecord, AuditRecord, AuditRecord];
  for (const record of [endpointRecord, twinRecord]) {
    const inverted = String(999_999_999_999_999 - record.sequence).padStart(15, '0');
    const canonicalSubject = record.subject === ESCAPED_ENDPOINT ? 'sip:persistentchat@contoso.com' : 'sip:ocschat@contoso.com';
    await moveRow(
      table,
      `auditsub|${encodeURIComponent(canonicalSubject)}|${inverted}`,
      `auditsub|${encodeURIComponent(record.subject)}|${inverted}`,
    );
  }
  const twinInverted = String(999_999_999_999_999 - twinRecord.sequence).padStart(15, '0');
  const hashedActorKey = (await partitionRows(table, P))
    .map((row) => row.rowKey as string)
    .find((key) => key.startsWith('auditix|actor|sha256='));
  await moveRow(table, hashedActorKey as string, `auditix|actor|${LONG_ACTOR}|${twinInverted}`);
  await asLayoutOne(table);
  return { table, user, endpoint, twin, waiting, records: commit.audit };
}

describe('the layout migration (version 1 to 2: canonical SIP addresses) on Azurite', () => {
  let azurite: TestAzurite;
  before(async () => {
    azurite = await startTestAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });

  it('re-keys and rewrites every escaped address, keeps a second holder as a conflict row, and leaves the audit chain intact', async () => {
    const { table, user, endpoint, twin, waiting, records } = await aLayoutOnePartition(azurite.connectionString);
    const before = byKey(await partitionRows(table, P));
    const log = recordingLog();

    const store = await openTableStore(table, P, log);

    const rows = byKey(await partitionRows(table, P));
    assert.equal(rows.get('head')?.schemaVersion, LAYOUT_VERSION);
    // No key holds an escaped address any more (an escape of an escape, %25, is what layout 1 made of them).
    assert.deepEqual(
      [...rows.keys()].filter((key) => key.includes('%2565') || key.includes('%2561') || key.includes('%2563')),
      [],
    );
    // The endpoint: one key, one spelling, found by either spelling.
    const canonicalEndpoint: Endpoint = { ...endpoint, sipAddress: sip('sip:persistentchat@contoso.com') };
    assert.deepEqual(dataOf(rows.get('address|contoso.com|persistentchat')), canonicalEndpoint);
    assert.equal(rows.get('address|contoso.com|persistentchat')?.sipAddress, 'sip:persistentchat@contoso.com');
    assert.deepEqual(await store.queries.holder(sip(ESCAPED_ENDPOINT)), canonicalEndpoint);
    assert.deepEqual(await store.queries.holder(sip('sip:persistentchat@contoso.com')), canonicalEndpoint);
    assert.deepEqual((await store.queries.endpoints({ sipAddress: 'sip:persist*', limit: 10 })).items, [canonicalEndpoint]);
    assert.equal(dataOf<PersistentChatPool>(rows.get('pool|pcpool.contoso.com')).adminEndpointSipAddress, 'sip:persistentchat@contoso.com');
    assert.equal(dataOf<PersistentChatPool>(rows.get('pool|pcpool2.contoso.com')).adminEndpointSipAddress, 'sip:ocschat@contoso.com');

    // Two holders of sip:ocschat: the user came first and keeps the address; the endpoint is kept whole for an operator.
    assert.deepEqual(await store.queries.holder(sip(ESCAPED_TWIN)), user);
    const conflicts = [...rows.values()].filter((row) => (row.rowKey as string).startsWith('conflict|'));
    assert.equal(conflicts.length, 1);
    const [conflict] = conflicts as [Stored];
    assert.match(conflict.rowKey as string, /^conflict\|address\|contoso\.com\|ocschat\|[0-9a-f]{16}$/);
    assert.equal(conflict.originalRowKey, 'address|contoso.com|ocs%2563hat');
    assert.equal(conflict.canonicalRowKey, 'address|contoso.com|ocschat');
    assert.equal(conflict.data, before.get('address|contoso.com|ocs%2563hat')?.data);
    assert.deepEqual(dataOf(conflict), twin);
    assert.equal(log.warnings.length, 1);
    assert.match(log.warnings[0] ?? '', /conflict row/);

    // The waiting list, its counter and its request: one spelling.
    const canonicalWaiting = sip('sip:waiting@contoso.com');
    assert.equal(dataOf<{ sipAddress: string }>(rows.get('line|contoso.com|waiting')).sipAddress, canonicalWaiting);
    const {
      entries: [due],
    } = await store.redrives.due(new Date('2100-01-01T00:00:00Z'), 10);
    assert.equal((due as ScheduledRedrive).changeRequest.request.sipAddress, canonicalWaiting);
    assert.ok(rows.has('pending|contoso.com|waiting|000000000000001'));
    assert.equal((await store.queries.changeRequest(waiting.id))?.request?.sipAddress, canonicalWaiting);
    assert.equal(dataOf<ChangeRequest>(rows.get(`cr|${waiting.id}`)).request?.sipAddress, canonicalWaiting);

    // Audit records untouched; their index rows found by the canonical subject and the hashed actor.
    for (const [key, row] of before) if (key.startsWith('audit|')) assert.deepEqual(contentOf(rows.get(key) as Stored), contentOf(row));
    const [, endpointRecord, twinRecord] = records as [AuditRecord, AuditRecord, AuditRecord];
    assert.deepEqual((await store.auditSearch.page({ subject: 'sip:persistentchat@contoso.com', limit: 10 })).items, [endpointRecord]);
    assert.deepEqual((await store.auditSearch.page({ subject: ESCAPED_ENDPOINT, limit: 10 })).items, [endpointRecord]);
    assert.deepEqual((await store.auditSearch.page({ actor: LONG_ACTOR, limit: 10 })).items, [twinRecord]);
    assert.equal((await verifyAuditLog(store)).intact, true);
  });

  it('changes nothing when it runs again, even with the version taken off the head', async () => {
    const { table } = await aLayoutOnePartition(azurite.connectionString);
    await openTableStore(table, P);
    const once = (await partitionRows(table, P)).filter((row) => row.rowKey !== 'head').map(contentOf);

    await asLayoutOne(table);
    const log = recordingLog();
    const report = await migrateToCurrentLayout(new PartitionTable(table, P), log);

    assert.deepEqual(report, { migrated: true, rewritten: 0, conflicts: 0 });
    assert.deepEqual((await partitionRows(table, P)).filter((row) => row.rowKey !== 'head').map(contentOf), once);
    assert.equal((await table.getEntity(P, 'head')).schemaVersion, LAYOUT_VERSION);
    assert.deepEqual(log.warnings, []);
  });

  it('finishes after a crash midway, and two instances migrating at once end where one does', async () => {
    const expected = await aLayoutOnePartition(azurite.connectionString);
    await openTableStore(expected.table, P);
    // Partitions differ in their generated ids; their layout (the keys, ids masked) must not.
    const keysOf = async (table: TableClient) =>
      (await partitionRows(table, P)).map((row) => (row.rowKey as string).replaceAll(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<id>')).sort();

    // A process that dies at its third transaction: the first two are in, the rest not.
    const crashed = await aLayoutOnePartition(azurite.connectionString);
    let transactions = 0;
    const dying: DirectoryTableClient = Object.assign(Object.create(crashed.table) as TableClient, {
      submitTransaction: (...args: Parameters<TableClient['submitTransaction']>) =>
        ++transactions === 3 ? Promise.reject(new Error('killed')) : crashed.table.submitTransaction(...args),
    });
    await assert.rejects(migrateToCurrentLayout(new PartitionTable(dying, P), recordingLog()), /killed/);
    assert.notEqual((await crashed.table.getEntity(P, 'head')).schemaVersion, LAYOUT_VERSION, 'the version is bumped last');
    await openTableStore(crashed.table, P);

    const concurrent = await aLayoutOnePartition(azurite.connectionString);
    const reports = await Promise.all([1, 2].map(() => migrateToCurrentLayout(new PartitionTable(concurrent.table, P), recordingLog())));

    assert.equal(transactions, 3);
    assert.deepEqual(
      reports.map((r) => r.migrated),
      [true, true],
    );
    assert.deepEqual(await keysOf(crashed.table), await keysOf(expected.table));
    assert.deepEqual(await keysOf(concurrent.table), await keysOf(expected.table));
    for (const table of [crashed.table, concurrent.table]) {
      assert.equal((await table.getEntity(P, 'head')).schemaVersion, LAYOUT_VERSION);
      assert.equal((await partitionRows(table, P)).filter((row) => (row.rowKey as string).startsWith('conflict|')).length, 1);
    }
  });
});

describe('the layout migration (version 2 to 3: change requests in their listings) on Azurite', () => {
  let azurite: TestAzurite;
  before(async () => {
    azurite = await startTestAzurite();
  });
  after(async () => {
    await azurite.stop();
  });

  /** A partition as today's code writes it: a settled request and a waiting one, with their listings. */
  async function aPartitionWithRequests() {
    const table = TableClient.fromConnectionString(azurite.connectionString, freshTableName(), { allowInsecureConnection: true });
    const store = await openTableStore(table, P);
    const pool = aPool();
    await store.directory.commit(aCommit(EMPTY_STORE, { writes: [{ type: 'putPool', pool }], drafts: [anAuditDraft()] }));
    const settledOne = aChangeRequest({ request: aDeleteRequest({ sipAddress: sip('sip:gone@contoso.com') }), acceptedAt: EARLIER });
    const waiting = aChangeRequest({ request: aDeleteRequest({ sipAddress: sip('sip:waits@contoso.com') }), actor: 'bob' });
    const admitted = await store.admissions.admit(settledOne, { now: new Date(EARLIER), redriveAt: new Date(NOW) });
    await store.admissions.admit(waiting, { now: new Date(NOW), redriveAt: new Date(NOW) });
    assert.equal(admitted.outcome, 'admitted');
    const snapshot = await store.directory.snapshot({});
    const applied: ChangeRequest = { ...(admitted as { changeRequest: ChangeRequest }).changeRequest, status: 'applied', completedAt: NOW };
    await store.directory.commit(aCommit(snapshot, { changeRequests: [applied], storedStatuses: new Map([[applied.id, 'accepted']]) }));
    return { table, store, applied, waiting };
  }

  const indexRows = async (table: TableClient) =>
    (await partitionRows(table, P)).filter((row) => (row.rowKey as string).startsWith('crix|')).map(contentOf);

  it('writes the listings of requests recorded before, deletes index rows no request accounts for, and a second run writes nothing', async () => {
    const { table, store, applied, waiting } = await aPartitionWithRequests();
    const expected = await indexRows(table);
    // all, actor, status, address and operation for each request.
    assert.equal(expected.length, 10);

    // Layout 2 had no listings: take them away and put the version back.
    for (const row of expected) await table.deleteEntity(P, row.rowKey as string);
    await table.createEntity({ partitionKey: P, rowKey: 'crix|status|accepted|000000000000000|stray', data: '{}' });
    const { etag: _etag, timestamp: _timestamp, ...head } = await table.getEntity<Record<string, unknown>>(P, 'head');
    await table.updateEntity({ ...head, partitionKey: P, rowKey: 'head', schemaVersion: 2 }, 'Replace');
    assert.deepEqual((await store.queries.changeRequests({ limit: 10 })).items.length, 0);

    const report = await migrateToCurrentLayout(new PartitionTable(table, P), recordingLog());

    assert.deepEqual(report, { migrated: true, rewritten: 10, conflicts: 0 });
    assert.deepEqual(await indexRows(table), expected);
    assert.equal((await table.getEntity(P, 'head')).schemaVersion, LAYOUT_VERSION);
    assert.deepEqual(
      (await store.queries.changeRequests({ limit: 10 })).items.map((request) => request.id),
      [waiting.id, applied.id],
    );
    assert.deepEqual(
      (await store.queries.changeRequests({ status: 'accepted', limit: 10 })).items.map((request) => request.id),
      [waiting.id],
    );

    await asLayoutOne(table);
    assert.deepEqual(await migrateToCurrentLayout(new PartitionTable(table, P), recordingLog()), {
      migrated: true,
      rewritten: 0,
      conflicts: 0,
    });
    assert.deepEqual(await indexRows(table), expected);
  });
});
