import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TableClient, TransactionAction } from '@azure/data-tables';
import { rowKeys, LAYOUT_VERSION, SCHEMA_VERSION_COLUMN } from '../../shared/adapters/tables/rowKeys';
import type { AuditLog } from '../../shared/application/ports/auditLog';
import { checkpointAuditLog } from '../../shared/application/audit/checkpointAuditLog';
import {
  advanceUntilDone,
  advanceVerification,
  getVerification,
  startVerification,
  verifyNow,
  type SliceLimits,
  type VerificationRunDependencies,
} from '../../shared/application/audit/verificationRuns';
import { verifyAuditLog } from '../../shared/application/audit/verifyAuditLog';
import { auditVerificationTimer } from '../../shared/entrypoints/timers';
import { AuditAction, GENESIS_HEAD, appendToChain, hashAuditRecord, type AuditHead, type AuditRecord } from '../../shared/domain/audit';
import { BreakKind, type PositionedRecord } from '../../shared/domain/auditVerification';
import { ErrorCode, UnprocessableError } from '../../shared/domain/errors';
import { unsignedVerificationRecord, verificationStatement, type AuditVerificationRecord } from '../../shared/domain/verificationRecord';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { counting } from '../support/countingTable';
import { localSigning, newStoreHarness, type StoreHarness } from '../support/storeHarness';

const PARTITION = 'default';
const signingKey = generateKeyPairSync('ed25519').privateKey;
const T0 = Date.parse('2026-01-01T00:00:00.000Z');

let azurite: TestAzurite;

/** A clock the test moves by hand (leases expire when it says so). */
function handClock(start = Date.parse('2026-11-26T12:00:00.000Z')) {
  let now = start;
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
}

interface Log {
  deps: StoreHarness;
  table: TableClient;
  counter: ReturnType<typeof counting>;
  head: AuditHead;
}

/** A fresh table with a signer, its client counted (rows read). */
async function emptyLog(options: { clock?: ReturnType<typeof handClock> } = {}): Promise<Log> {
  let counter!: ReturnType<typeof counting>;
  const deps = await newStoreHarness(azurite.connectionString, {
    partition: PARTITION,
    signingKey,
    ...(options.clock ? { clock: options.clock } : {}),
    wrapClient: (client) => (counter = counting(client)),
  });
  return { deps, table: deps.table, counter, head: GENESIS_HEAD };
}

/**
 * Appends `count` records straight to the table, 100 rows per transaction, then moves the head row:
 * only what verification reads (the audit rows and the head), fast enough for 50,000 records.
 */
async function append(log: Log, count: number): Promise<void> {
  const drafts = Array.from({ length: count }, (_, i) => ({
    id: `r${log.head.sequence + i + 1}`,
    actor: 'bulk',
    action: AuditAction.sipDomainAdded,
    subject: `sip:user${(log.head.sequence + i) % 1000}@contoso.com`,
    changeRequestId: null,
    correlationId: 'bulk',
    causationId: null,
    outcome: { status: 'applied' as const },
    before: null,
    after: null,
  }));
  const { records, head } = appendToChain(log.head, drafts, new Date(T0 + log.head.sequence * 1000));
  await writeRecords(log, records);
  await writeHead(log, head);
}

async function writeRecords(log: Log, records: AuditRecord[]): Promise<void> {
  for (let i = 0; i < records.length; i += 100) {
    const actions: TransactionAction[] = records
      .slice(i, i + 100)
      .map((record) => [
        'upsert',
        { partitionKey: PARTITION, rowKey: rowKeys.audit(record.sequence), data: JSON.stringify(record) },
        'Replace',
      ]);
    await log.table.submitTransaction(actions);
  }
}

async function writeHead(log: Log, head: AuditHead): Promise<void> {
  const row = { partitionKey: PARTITION, rowKey: rowKeys.head, data: JSON.stringify(head), sequence: head.sequence };
  await log.table.upsertEntity({ ...row, [SCHEMA_VERSION_COLUMN]: LAYOUT_VERSION }, 'Merge');
  log.head = head;
}

async function recordAt(log: Log, sequence: number): Promise<AuditRecord> {
  const row = await log.table.getEntity<{ data: string }>(PARTITION, rowKeys.audit(sequence));
  return JSON.parse(row.data) as AuditRecord;
}

/** The log's audit log with some methods replaced (the rest still the adapter's own). */
function withAuditLog(log: Log, replaced: Partial<AuditLog>): AuditLog {
  return Object.assign(Object.create(log.deps.auditLog) as AuditLog, replaced);
}

/** Starts a verification and runs it to its end in this process (as the POST's background slices and the timer do). */
async function runToEnd(deps: VerificationRunDependencies, mode: 'incremental' | 'full', slice?: SliceLimits) {
  const started = await startVerification(deps, { mode, requestedBy: 'auditor' });
  assert.equal(await advanceUntilDone(deps, started.id, 'worker', Number.MAX_SAFE_INTEGER, slice), 'finished');
  const done = await getVerification(deps, started.id);
  assert.equal(done?.status, 'succeeded', JSON.stringify(done?.error));
  return done;
}

describe('verification that scales, on Azurite', () => {
  before(async () => {
    azurite = await startTestAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });

  it(
    '50,000 records: a full run in slices, then an incremental run reads only the 300 new records and a constant',
    { timeout: 10 * 60_000 },
    async (t) => {
      const log = await emptyLog();
      await append(log, 25_000);
      assert.equal((await checkpointAuditLog(log.deps))?.sequence, 25_000);
      await append(log, 25_000);
      assert.equal((await checkpointAuditLog(log.deps))?.sequence, 50_000);

      log.counter.rowsRead = 0;
      const full = await runToEnd(log.deps, 'full');
      assert.deepEqual(
        [full.result?.intact, full.result?.mode, full.result?.recordsChecked, full.result?.verifiedFrom, full.result?.basedOn],
        [true, 'full', 50_000, 1, null],
      );
      assert.deepEqual(full.progress, { recordsChecked: 50_000, recordsToCheck: 50_000 });
      assert.ok(log.counter.rowsRead >= 50_000, `the full run read every record (${log.counter.rowsRead} rows)`);
      const fullRowsRead = log.counter.rowsRead;

      await append(log, 300);
      assert.equal((await checkpointAuditLog(log.deps))?.sequence, 50_300);
      log.counter.rowsRead = 0;
      const incremental = await runToEnd(log.deps, 'incremental');
      const rowsRead = log.counter.rowsRead;

      assert.deepEqual(
        [incremental.result?.intact, incremental.result?.mode, incremental.result?.recordsChecked, incremental.result?.verifiedFrom],
        [true, 'incremental', 300, 50_001],
      );
      assert.deepEqual(incremental.result?.basedOn, { id: full.id, sequence: 50_000 });
      assert.deepEqual(incremental.progress, { recordsChecked: 300, recordsToCheck: 300 });
      assert.equal(incremental.result?.checkpoints.checked, 3, 'every checkpoint was checked');
      // 300 records + a constant: the head, the verification record, the boundary record, the three
      // checkpoints (listed a few times), the operation's row: never the log.
      assert.ok(rowsRead >= 300, `${rowsRead} rows read`);
      assert.ok(rowsRead <= 300 + 30, `the incremental run read ${rowsRead} rows, not ~50,300`);
      t.diagnostic(`rows read: full run ${fullRowsRead}, incremental run ${rowsRead}`);
    },
  );

  it('catches a record below the verified point rewritten together with the chain up to the head (the boundary hash changed)', async () => {
    const log = await emptyLog();
    await append(log, 40);
    const first = await verifyNow(log.deps, 'full');
    assert.equal(first.intact, true);

    // Rewrite record 10 and re-chain 10..40 so every hash and link is consistent again (no checkpoint covers them).
    const original = await Promise.all(Array.from({ length: 31 }, (_, i) => recordAt(log, 10 + i)));
    let previous = (await recordAt(log, 9)).hash;
    const rewritten = original.map((record, i) => {
      const { hash: _hash, ...content } = record;
      const unhashed = { ...content, actor: i === 0 ? 'mallory' : content.actor, previousHash: previous };
      previous = hashAuditRecord(unhashed);
      return { ...unhashed, hash: previous };
    });
    await writeRecords(log, rewritten);
    await writeHead(log, { ...log.head, hash: previous });
    assert.equal((await verifyAuditLog(log.deps)).intact, true, 'a consistent re-chain passes a walk without checkpoints');

    const report = await verifyNow(log.deps, 'incremental');

    assert.equal(report.intact, false);
    assert.deepEqual([report.firstBreak?.sequence, report.firstBreak?.kind], [40, BreakKind.checkpointMismatch]);
    assert.match(report.firstBreak?.detail ?? '', /the log was rewritten from an earlier point/);
    assert.deepEqual([report.mode, report.fullBecause], ['full', 'the record the previous verification ended at has changed']);
  });

  it('an edit below the verified point without re-chaining is not seen by an incremental run, and is by a full one', async () => {
    const log = await emptyLog();
    await append(log, 40);
    assert.equal((await verifyNow(log.deps, 'full')).intact, true);
    await writeRecords(log, [{ ...(await recordAt(log, 10)), actor: 'mallory' }]);
    await append(log, 5);

    const incremental = await verifyNow(log.deps, 'incremental');
    assert.deepEqual(
      [incremental.intact, incremental.mode, incremental.recordsChecked, incremental.verifiedFrom],
      [true, 'incremental', 5, 41],
    );

    const full = await verifyNow(log.deps, 'full');
    assert.deepEqual([full.intact, full.firstBreak?.sequence, full.firstBreak?.kind], [false, 10, BreakKind.contentAltered]);
  });

  it('a forged verification record (or one signed by another key) is ignored: the run is full and says why', async () => {
    const log = await emptyLog();
    await append(log, 30);
    assert.equal((await verifyNow(log.deps, 'full')).intact, true);
    await append(log, 10);
    await writeRecords(log, [{ ...(await recordAt(log, 5)), actor: 'mallory' }]);
    const stored = async () =>
      JSON.parse((await log.table.getEntity<{ data: string }>(PARTITION, rowKeys.verified)).data) as AuditVerificationRecord;
    const store = async (record: AuditVerificationRecord) =>
      log.table.upsertEntity({ partitionKey: PARTITION, rowKey: rowKeys.verified, data: JSON.stringify(record) }, 'Replace');

    // Moved forward past the edit (as someone who can write the table would, to hide it), same signature.
    await store({ ...(await stored()), verifiedThrough: { sequence: 40, hash: log.head.hash } });
    const forged = await verifyNow(log.deps, 'incremental');
    assert.deepEqual([forged.mode, forged.basedOn, forged.intact, forged.firstBreak?.sequence], ['full', null, false, 5]);
    assert.match(forged.fullBecause ?? '', /is not signed by a known key \(forged or unverifiable\)/);

    // Well formed and signed, but by a key the ring does not know.
    const foreignSigner = localSigning(generateKeyPairSync('ed25519').privateKey).checkpointSigner;
    const unsigned = unsignedVerificationRecord(
      'forged',
      'full',
      { sequence: 40, hash: log.head.hash },
      new Date().toISOString(),
      await foreignSigner.key(),
    );
    const signature = Buffer.from(await foreignSigner.sign(verificationStatement(unsigned))).toString('base64');
    await store({ ...unsigned, signature });
    const foreign = await verifyNow(log.deps, 'incremental');
    assert.deepEqual([foreign.mode, foreign.intact, foreign.firstBreak?.sequence], ['full', false, 5]);
    assert.match(foreign.fullBecause ?? '', /record forged is not signed by a known key/);
  });

  it('without a signer every run is full, and the report says so', async () => {
    const log = await emptyLog();
    await append(log, 12);
    const unsigned = { ...log.deps, checkpointSigner: undefined };
    const report = await verifyNow(unsigned, 'incremental');
    assert.deepEqual([report.intact, report.mode, report.recordsChecked], [true, 'full', 12]);
    assert.match(report.fullBecause ?? '', /no signing key is configured/);
  });

  it('GET /api/audit/verify is bounded: more records than the limit is verification_too_large', async () => {
    const log = await emptyLog();
    await append(log, 30);
    await assert.rejects(verifyNow(log.deps, 'full', 20), (error: unknown) => {
      assert.ok(error instanceof UnprocessableError);
      assert.equal(error.code, ErrorCode.verificationTooLarge);
      assert.match(error.message, /POST \/api\/audit\/verifications/);
      return true;
    });
  });

  it('an operation survives a crash mid-run: once the lease expires another instance finishes it with the right result', async () => {
    const clock = handClock();
    const log = await emptyLog({ clock });
    await append(log, 250);
    await writeRecords(log, [{ ...(await recordAt(log, 230)), actor: 'mallory' }]);
    await writeRecords(log, [{ ...(await recordAt(log, 30)), actor: 'mallory' }]);
    const slice = { records: 100, ms: 60_000, leaseMs: 60_000 };
    const operation = await startVerification(log.deps, { mode: 'full', requestedBy: 'auditor' });

    assert.equal(await advanceVerification(log.deps, operation.id, 'instance-a', slice), 'advanced');
    assert.deepEqual((await getVerification(log.deps, operation.id))?.progress, { recordsChecked: 100, recordsToCheck: 250 });
    // Instance A takes the next slice and dies in it: its walk never returns, its lease stays on the row.
    const dying = {
      ...log.deps,
      auditLog: withAuditLog(log, {
        recordsDown: () => ({
          [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<PositionedRecord>>(() => undefined) }),
        }),
      }),
    };
    void advanceVerification(dying, operation.id, 'instance-a', slice);
    await new Promise((resolve) => setTimeout(resolve, 300));

    assert.equal(await advanceVerification(log.deps, operation.id, 'instance-b', slice), 'busy', 'the lease is still held');
    clock.advance(61_000);
    assert.equal(await advanceUntilDone(log.deps, operation.id, 'instance-b', Number.MAX_SAFE_INTEGER, slice), 'finished');

    const done = await getVerification(log.deps, operation.id);
    const expected = await verifyAuditLog(log.deps);
    assert.equal(done?.status, 'succeeded');
    assert.deepEqual(done?.progress, { recordsChecked: 250, recordsToCheck: 250 });
    assert.deepEqual(
      done?.result?.breaks.map((b) => [b.sequence, b.kind]),
      expected.breaks.map((b) => [b.sequence, b.kind]),
    );
    assert.deepEqual(
      done?.result?.breaks.map((b) => [b.sequence, b.kind]),
      [
        [30, BreakKind.contentAltered],
        [230, BreakKind.contentAltered],
      ],
    );
    assert.equal(done?.result?.recordsChecked, 250);
  });

  it('two timers never work one operation at once: one walks it, the other finds it busy (or done)', async () => {
    const log = await emptyLog();
    await append(log, 250);
    let walked = 0;
    let walking = 0;
    let mostAtOnce = 0;
    const watched = {
      ...log.deps,
      auditLog: withAuditLog(log, {
        recordsDown: async function* (from: number, to: number) {
          walking++;
          mostAtOnce = Math.max(mostAtOnce, walking);
          try {
            for await (const positioned of log.deps.auditLog.recordsDown(from, to)) {
              walked++;
              yield positioned;
            }
          } finally {
            walking--;
          }
        },
      }),
    };
    const operation = await startVerification(watched, { mode: 'full', requestedBy: 'auditor' });

    const [first, second] = await Promise.all([auditVerificationTimer(watched), auditVerificationTimer(watched)]);

    const outcomes = [first[operation.id], second[operation.id]].sort();
    assert.ok(
      JSON.stringify(outcomes) === JSON.stringify(['busy', 'finished']) ||
        JSON.stringify(outcomes) === JSON.stringify(['finished', 'not running']),
      JSON.stringify(outcomes),
    );
    assert.equal(mostAtOnce, 1);
    assert.equal(walked, 250, 'every record walked once');
    const done = await getVerification(log.deps, operation.id);
    assert.deepEqual([done?.status, done?.result?.intact, done?.result?.recordsChecked], ['succeeded', true, 250]);
  });
});
