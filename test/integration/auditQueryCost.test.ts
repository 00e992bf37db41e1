import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditPageRequest } from '../../shared/application/ports/auditSearch';
import { AuditAction, GENESIS_HEAD, appendToChain, type AuditDraft, type AuditHead } from '../../shared/domain/audit';
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

  async function measured(filter: Omit<AuditPageRequest, 'limit'> & { limit?: number }) {
    table.rowsRead = 0;
    const page = await store.auditSearch.page({ limit: 1000, ...filter });
    return { sequences: page.items.map((record) => record.sequence), rowsRead: table.rowsRead };
  }

  it('by subject: 20 records, 20 rows read', async () => {
    const { sequences, rowsRead } = await measured({ subject: 'sip:user7@contoso.com' });
    assert.deepEqual(
      sequences,
      Array.from({ length: 20 }, (_, i) => 19_007 - i * 1000),
    );
    assert.equal(rowsRead, 20);
  });

  it('by time window: 100 records, 100 rows read plus a binary search for each end', async () => {
    const { sequences, rowsRead } = await measured({ since: timeOf(10_001), until: timeOf(10_100) });
    assert.deepEqual(
      sequences,
      Array.from({ length: 100 }, (_, i) => 10_100 - i),
    );
    // Exact, as the log is known: 100 page rows + 1 head read + the point reads of the window's two
    // binary searches over sequences [1, 20,001) (SequenceWindows): 14 probes to find 10,001, the
    // first record at or after `since`, and 15 to find 10,101, the first after `until`.
    assert.equal(rowsRead, 100 + 1 + 14 + 15);
  });

  it('by actor within a window: what it returns plus the search, never the log', async () => {
    const { sequences, rowsRead } = await measured({ actor: 'actor3', since: timeOf(5_000), until: timeOf(6_000) });
    assert.deepEqual(
      sequences,
      Array.from({ length: 20 }, (_, i) => 5_953 - i * 50),
    );
    // Exact, as the log is known: 20 page rows (actor3's index rows within the window) + 1 head read
    // + the binary searches' point reads: 14 probes to find 5,000 (since) and 14 to find 6,001 (the
    // first record after until).
    assert.equal(rowsRead, 20 + 1 + 14 + 14);
  });

  it('a page of the whole log reads one page (and the one row that says whether another follows)', async () => {
    const { sequences, rowsRead } = await measured({ limit: 50 });
    assert.deepEqual(
      sequences,
      Array.from({ length: 50 }, (_, i) => RECORDS - i),
    );
    assert.equal(rowsRead, 51);
  });
});
