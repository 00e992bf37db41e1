import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChangeRequestFilter } from '../../shared/application/ports/directoryQueries';
import type { ChangeRequest, ChangeRequestBody } from '../../shared/domain/changeRequest';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { aChangeRequest, fqdn, sip } from '../support/builders';
import { counting } from '../support/countingTable';
import { newTableStore } from '../support/storeHarness';

const REQUESTS = 2_000;
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
/** Request n (1-based) is accepted at T0 + n seconds, about user n mod 100, by actor n mod 10; even n create, odd delete. */
const timeOf = (n: number) => new Date(T0 + n * 1000).toISOString();
const addressOf = (n: number) => sip(`sip:user${n % 100}@contoso.com`);
const actorOf = (n: number) => `actor${n % 10}`;
const requestOf = (n: number): ChangeRequestBody =>
  n % 2 === 0
    ? { operation: 'create', sipAddress: addressOf(n), poolFqdn: fqdn('pcpool.contoso.com') }
    : { operation: 'delete', sipAddress: addressOf(n) };
/** Every 20th request is settled (applied); the rest stay accepted. */
const settles = (n: number) => n % 20 === 0;
const idOf = (n: number) => `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`;

describe(`change-request listings over ${REQUESTS.toLocaleString('en')} requests read what they return`, () => {
  let azurite: TestAzurite;
  let table: ReturnType<typeof counting>;
  let store: Awaited<ReturnType<typeof newTableStore>>;

  /** Admits every request as the service does (one transaction each), then settles every 20th in a commit of its own. */
  async function writeTheRequests(): Promise<void> {
    azurite = await startTestAzurite();
    store = await newTableStore(azurite.connectionString, {
      wrapClient: (client) => {
        table = counting(client);
        return table;
      },
    });
    const admitted: ChangeRequest[] = [];
    for (let n = 1; n <= REQUESTS; n++) {
      const request = aChangeRequest({ id: idOf(n), request: requestOf(n), actor: actorOf(n), acceptedAt: timeOf(n) });
      const admission = await store.admissions.admit(request, { now: new Date(timeOf(n)), redriveAt: new Date(timeOf(n + 60)) });
      assert.equal(admission.outcome, 'admitted');
      if (admission.outcome === 'admitted') admitted.push(admission.changeRequest);
    }
    for (const request of admitted.filter((_, i) => settles(i + 1))) {
      const snapshot = await store.directory.snapshot({});
      const settled: ChangeRequest = { ...request, status: 'applied', completedAt: request.acceptedAt };
      await store.directory.commit({
        expectedVersion: snapshot.version,
        head: snapshot.head,
        writes: [],
        changeRequests: [settled],
        storedStatuses: new Map([[request.id, 'accepted']]),
        audit: [],
        outbox: [],
      });
    }
  }
  before(writeTheRequests, { timeout: 10 * 60_000 });
  after(async () => {
    await azurite?.stop();
  });

  async function measured(filter: Omit<ChangeRequestFilter, 'limit'> & { limit?: number }) {
    table.rowsRead = 0;
    const page = await store.queries.changeRequests({ limit: 1000, ...filter });
    const numbers = page.items.map((request) => Number(request.id.slice(-12)));
    return { numbers, nextCursor: page.nextCursor, rowsRead: table.rowsRead };
  }

  it('all, a page of 50: 51 rows read (one past the page, to know a next one exists)', async () => {
    const { numbers, nextCursor, rowsRead } = await measured({ limit: 50 });
    assert.deepEqual(
      numbers,
      Array.from({ length: 50 }, (_, i) => REQUESTS - i),
    );
    assert.ok(nextCursor);
    assert.equal(rowsRead, 51);
    const next = await measured({ limit: 50, cursor: nextCursor });
    assert.deepEqual(next.numbers.slice(0, 2), [REQUESTS - 50, REQUESTS - 51]);
    assert.equal(next.rowsRead, 51);
  });

  it('by address: 20 requests, 20 rows read', async () => {
    const { numbers, rowsRead } = await measured({ sipAddress: addressOf(7) });
    assert.deepEqual(
      numbers,
      Array.from({ length: 20 }, (_, i) => 1_907 - i * 100),
    );
    assert.equal(rowsRead, 20);
  });

  it('by status: the 100 applied, 100 rows read; the accepted ones no longer list them', async () => {
    const { numbers, rowsRead } = await measured({ status: 'applied' });
    assert.deepEqual(
      numbers,
      Array.from({ length: 100 }, (_, i) => REQUESTS - i * 20),
    );
    assert.equal(rowsRead, 100);
    const accepted = await measured({ status: 'accepted', limit: 20 });
    assert.ok(accepted.numbers.every((n) => !settles(n)));
    assert.equal(accepted.rowsRead, 21);
  });

  it('a submitter’s own within a time window: what it returns, never the rest', async () => {
    const { numbers, rowsRead } = await measured({ submittedBy: 'actor3', since: timeOf(1_000), until: timeOf(1_100) });
    assert.deepEqual(
      numbers,
      Array.from({ length: 10 }, (_, i) => 1_093 - i * 10),
    );
    assert.equal(rowsRead, 10);
  });

  it('by operation and address: the address index, the operation filtered by the service', async () => {
    const { numbers, rowsRead } = await measured({ sipAddress: addressOf(8), operation: 'create', until: timeOf(500) });
    assert.deepEqual(numbers, [408, 308, 208, 108, 8]);
    assert.equal(rowsRead, 5);
  });
});
