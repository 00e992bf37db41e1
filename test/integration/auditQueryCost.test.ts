import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditPageRequest } from '../../shared/application/ports/auditSearch';
import { AuditAction, GENESIS_HEAD, appendToChain, type AuditDraft, type AuditHead } from '../../shared/domain/audit';
import { PartitionTable } from '../../shared/adapters/tables/partitionTable';
import { rowKeys } from '../../shared/adapters/tables/rowKeys';
import { SequenceWindows } from '../../shared/adapters/tables/sequenceWindows';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { counting } from '../support/countingTable';
import { newTableStore } from '../support/storeHarness';

const RECORDS = 20_000;
const PER_COMMIT = 16; // 6 rows per record (the record; its subject, actor, type, outcome and correlation index) + the head: 97 of 100 actions
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
/** Record n (1-based) is written at T0 + n seconds, about subject n mod 1000, by actor n mod 50. */
const timeOf = (sequence: number) => new Date(T0 + sequence * 1000).toISOString();
const subjectOf = (sequence: number) => `sip:user${sequence % 1000}@contoso.com`;
const actorOf = (sequence: number) => `actor${sequence % 50}`;

describe(`audit queries over ${RECORDS.toLocaleString('en')} records read what they return, not the log`, () => {
  let azurite: TestAzurite;
  let table: ReturnType<typeof counting>;
  let store: Awaited<ReturnType<typeof newTableStore>>;

  /** Writes the log through the store, 16 records (97 rows) per commit, as the service commits them. */
  async function writeTheLog(): Promise<void> {
    azurite = await startTestAzurite();
    store = await newTableStore(azurite.connectionString, {
      wrapClient: (client) => {
        table = counting(client);
        return table;
      },
    });
    let head: AuditHead = GENESIS_HEAD;
    let version = '';
    for (let first = 1; first <= RECORDS; first += PER_COMMIT) {
      const drafts: AuditDraft[] = [];
      for (let sequence = first; sequence < first + PER_COMMIT && sequence <= RECORDS; sequence++) {
        drafts.push({
          id: `r${sequence}`,
          actor: actorOf(sequence),
          action: AuditAction.sipDomainAdded,
          subject: subjectOf(sequence),
          changeRequestId: null,
          correlationId: 'bulk',
          causationId: null,
          outcome: { status: 'applied' },
          before: null,
          after: null,
        });
      }
      const { records, head: next } = appendToChain(head, drafts, new Date(T0 + first * 1000));
      // appendToChain stamps one time per commit; give each record its own second, still non-decreasing.
      const timed = records.map((record) => ({ ...record, time: timeOf(record.sequence) }));
      await store.directory.commit({
        expectedVersion: version,
        head: { ...next, time: timeOf(next.sequence) },
        writes: [],
        changeRequests: [],
        storedStatuses: new Map(),
        audit: timed,
        outbox: [],
      });
      version = (await store.directory.snapshot({})).version;
      head = next;
    }
  }
  // The writes take under a minute of CPU. The limit catches a storage emulator that walks the whole
  // partition for each row it writes or reads (Azurite 3.35 without test/support/azurite.ts's
  // workaround ran for over 11 minutes), which would make every test with a large partition crawl.
  before(writeTheLog, { timeout: 10 * 60_000 });
  after(async () => {
    await azurite?.stop();
  });

  /** Resets the counters, runs `read`, and answers its result with what it read and in how many rounds. */
  async function counted<T>(read: () => Promise<T>) {
    table.rowsRead = 0;
    table.reads = 0;
    table.rounds = 0;
    const result = await read();
    return { result, rowsRead: table.rowsRead, reads: table.reads, rounds: table.rounds };
  }

  async function measured(filter: Omit<AuditPageRequest, 'limit'> & { limit?: number }) {
    const { result: page, ...counts } = await counted(() => store.auditSearch.page({ limit: 1000, ...filter }));
    return { sequences: page.items.map((record) => record.sequence), ...counts };
  }

  it('by subject: 20 records, 20 rows read', async () => {
    const { sequences, rowsRead } = await measured({ subject: 'sip:user7@contoso.com' });
    assert.deepEqual(
      sequences,
      Array.from({ length: 20 }, (_, i) => 19_007 - i * 1000),
    );
    assert.equal(rowsRead, 20);
  });

  it('by time window: 100 records, 100 rows read plus a search for the ends in four rounds', async () => {
    const { sequences, rowsRead, reads, rounds } = await measured({ since: timeOf(10_001), until: timeOf(10_100) });
    assert.deepEqual(
      sequences,
      Array.from({ length: 100 }, (_, i) => 10_100 - i),
    );
    // Exact, as the log is known. SequenceWindows reads the head, then splits the candidates
    // [1, 20,001] into 15 parts with 14 point reads, which both ends share (each lands in
    // [9,334, 10,667]); then that part into 14 with 13 reads, shared again (to [10,001, 10,095] and
    // [10,096, 10,190]); then one query per end over those keys, filtered on the time column, finds
    // no record before `since` (so 10,001 is first) and 10,100 as the newest at or before `until`.
    // The binary search read 14 + 15 rows, one after another.
    assert.equal(reads, 1 + 14 + 13 + 2 + 1);
    assert.equal(rowsRead, 1 + 14 + 13 + 0 + 1 + 100);
    // The head, two rounds of point reads sent together, the two queries together, the page.
    assert.equal(rounds, 5);
  });

  it('by actor within a window: what it returns plus the search, never the log', async () => {
    const { sequences, rowsRead, reads, rounds } = await measured({ actor: 'actor3', since: timeOf(5_000), until: timeOf(6_000) });
    assert.deepEqual(
      sequences,
      Array.from({ length: 20 }, (_, i) => 5_953 - i * 50),
    );
    // Exact, as the log is known: the head; 14 shared point reads (5,000 lands in [4,001, 5,333],
    // 6,001 in [5,334, 6,667]); 13 for each end (to [4,953, 5,047] and [6,001, 6,095]); a query for
    // each end (finding 4,999, the newest record before `since`, and nothing at or before `until`,
    // so 6,000 is last); then the page: actor3's 20 index rows within the window.
    assert.equal(reads, 1 + 14 + 13 + 13 + 2 + 1);
    assert.equal(rowsRead, 1 + 14 + 13 + 13 + 1 + 0 + 20);
    assert.equal(rounds, 5);
  });

  it('a page of the whole log reads one page (and the one row that says whether another follows)', async () => {
    const { sequences, rowsRead } = await measured({ limit: 50 });
    assert.deepEqual(
      sequences,
      Array.from({ length: 50 }, (_, i) => RECORDS - i),
    );
    assert.equal(rowsRead, 51);
  });

  describe('SequenceWindows', () => {
    /** A time `ms` milliseconds after record `sequence`'s. */
    const after = (sequence: number, ms: number) => new Date(Date.parse(timeOf(sequence)) + ms).toISOString();
    const windows = () => new SequenceWindows(new PartitionTable(table, 'default'));
    // The most reads a search over 20,001 candidates sends (see the time-window test above): the head,
    // 14 point reads both ends share, 13 per end, a query per end.
    const MOST_READS = 1 + 14 + 2 * 13 + 2;

    const cases: Array<{ window: string; since?: string; until?: string; expected: { first: number; last: number } | undefined }> = [
      { window: 'the whole log', expected: { first: 1, last: RECORDS } },
      {
        window: 'from before the first record to after the last',
        since: timeOf(-5),
        until: timeOf(25_000),
        expected: { first: 1, last: RECORDS },
      },
      { window: "the log's start", since: timeOf(0), until: timeOf(3), expected: { first: 1, last: 3 } },
      { window: 'the first record alone', since: timeOf(1), until: timeOf(1), expected: { first: 1, last: 1 } },
      { window: 'everything up to the first record', until: timeOf(1), expected: { first: 1, last: 1 } },
      { window: 'the middle', since: timeOf(10_001), until: timeOf(10_100), expected: { first: 10_001, last: 10_100 } },
      { window: 'ends between records', since: after(10_000, 500), until: after(10_002, 500), expected: { first: 10_001, last: 10_002 } },
      { window: "the log's end", since: timeOf(19_990), expected: { first: 19_990, last: RECORDS } },
      { window: 'the last record alone', since: timeOf(RECORDS), until: timeOf(30_000), expected: { first: RECORDS, last: RECORDS } },
      { window: 'after the last record', since: after(RECORDS, 1), expected: undefined },
      { window: 'before the first record', until: after(1, -1), expected: undefined },
      { window: 'between two records', since: after(10_000, 1), until: after(10_001, -1), expected: undefined },
      { window: 'a since later than its until', since: timeOf(6_000), until: timeOf(5_000), expected: undefined },
    ];
    for (const { window, since, until, expected } of cases) {
      it(`finds the exact ends in at most four round trips for ${window}`, async () => {
        const { result, reads, rounds } = await counted(() => windows().of(since, until));
        assert.deepEqual(result, expected);
        // The head, then (given a bound) two rounds of point reads and a round of queries, each sent together.
        assert.equal(rounds, since === undefined && until === undefined ? 1 : 4);
        assert.ok(reads <= MOST_READS, `${reads} reads`);
      });
    }

    it('treats a missing record (a damaged log) as later', async () => {
      const missing = [10_001, 10_101, 10_667].map(rowKeys.audit);
      const rows = await Promise.all(
        missing.map(async (rowKey) => ({ ...(await store.table.getEntity('default', rowKey)), partitionKey: 'default', rowKey })),
      );
      await Promise.all(missing.map((rowKey) => store.table.deleteEntity('default', rowKey)));
      try {
        // 10,667 is a point read of the first round, the first after the window: taken as earlier, it
        // would send both ends past the window. 10,001 and 10,101, the records just inside and just
        // past it, lie within the keys of the last queries, which do not see them: the window still
        // starts at the place 10,001 held and ends at 10,100.
        assert.deepEqual(await windows().of(timeOf(10_001), timeOf(10_100)), { first: 10_001, last: 10_100 });
      } finally {
        await Promise.all(rows.map(({ etag: _etag, timestamp: _timestamp, ...row }) => store.table.createEntity(row)));
      }
    });
  });
});
