import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { BlobAuditWitness, witnessBlobName } from '../../shared/adapters/blob/BlobAuditWitness';
import { rowKeys } from '../../shared/adapters/tables/rowKeys';
import { checkpointAuditLog, witnessCheckpoints } from '../../shared/application/audit/checkpointAuditLog';
import { verifyAuditLog } from '../../shared/application/audit/verifyAuditLog';
import { CHECKPOINT_EVENT_TYPE, type CloudEvent } from '../../shared/application/events';
import type { AuditWitness } from '../../shared/application/ports/auditWitness';
import { publishPendingEvents } from '../../shared/application/publishEvents';
import { Destination } from '../../shared/application/ports/messageBus';
import { addSipDomain } from '../../shared/application/topology';
import { BreakKind, type AuditCheckpoint } from '../../shared/domain/auditVerification';
import type { Fqdn } from '../../shared/domain/names';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { ManualClock, newStoreHarness, partitionRows, type StoreHarness } from '../support/storeHarness';

const PARTITION = 'default';
const admin = { actor: 'admin@contoso.com', correlationId: 'corr-witness' };
const signingKey = generateKeyPairSync('ed25519').privateKey;

let azurite: TestAzurite;
let containers = 0;

/** A fresh witness container of its own in Azurite's blob service (created by the first write, as locally). */
function freshContainer(): ContainerClient {
  containers += 1;
  return BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(`witness-${process.pid}-${containers}`);
}

/** A harness that signs checkpoints and copies them to a blob witness. */
async function witnessedHarness(container = freshContainer(), clock = new ManualClock('2026-11-20T23:58:00.000Z')) {
  const h = await newStoreHarness(azurite.connectionString, { partition: PARTITION, signingKey, clock });
  const witness = new BlobAuditWitness(container);
  const deps: StoreHarness = { ...h, auditWitness: witness };
  return { deps, witness, container, clock };
}

/** Adds a domain (one audit record) and signs a checkpoint of the new head, copying it to the witness. */
async function grow(deps: StoreHarness, name: string): Promise<AuditCheckpoint> {
  await addSipDomain(deps, admin, name as Fqdn);
  const checkpoint = await checkpointAuditLog(deps);
  assert.ok(checkpoint, 'a checkpoint is signed');
  await witnessCheckpoints(deps);
  return checkpoint;
}

const checkpointEvents = (deps: StoreHarness) =>
  (deps.bus.bodies(Destination.auditEvents) as CloudEvent[]).filter((event) => event.type === CHECKPOINT_EVENT_TYPE);

/** The raw text of a witness day file. */
async function dayFile(container: ContainerClient, name: string): Promise<string> {
  return (await container.getBlobClient(name).downloadToBuffer()).toString('utf8');
}

describe('checkpoint witnesses: the event and the blob copy, in Azurite', () => {
  before(async () => {
    azurite = await startTestAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });

  it('publishes each checkpoint as a pchat.audit.checkpoint.v1 CloudEvent with every member the contract names', async () => {
    const { deps } = await witnessedHarness();
    const checkpoint = await grow(deps, 'contoso.com');
    const [event, ...more] = checkpointEvents(deps);
    assert.deepEqual(more, []);
    assert.deepEqual(event, {
      specversion: '1.0',
      id: `audit-checkpoint-${checkpoint.sequence}`,
      source: '/test',
      type: 'pchat.audit.checkpoint.v1',
      subject: 'audit/checkpoints',
      time: checkpoint.time,
      datacontenttype: 'application/json',
      sequence: String(checkpoint.sequence).padStart(16, '0'),
      correlationid: `audit-checkpoint-${checkpoint.sequence}`,
      data: {
        sequence: checkpoint.sequence,
        hash: checkpoint.hash,
        time: checkpoint.time,
        keyId: checkpoint.keyId,
        algorithm: 'EdDSA',
        signature: checkpoint.signature,
      },
    });
    const sent = deps.bus.sent.find((entry) => entry.message.messageId === event?.id);
    assert.equal(sent?.message.properties?.['cloudEvents:type'], 'pchat.audit.checkpoint.v1');
    assert.deepEqual(await deps.outbox.pending(10), [], 'published events leave the outbox');
  });

  it('stores the checkpoint and its event in one transaction; a failed publish is left for the re-drive, which sends the same id', async () => {
    const { deps } = await witnessedHarness();
    await addSipDomain(deps, admin, 'contoso.com' as Fqdn);
    // The domain's own event is published; the next send (the checkpoint's) fails.
    deps.bus.failNext();
    const checkpoint = await checkpointAuditLog(deps);
    assert.ok(checkpoint);
    assert.deepEqual(checkpointEvents(deps), []);
    const keys = (await partitionRows(deps.table, PARTITION)).map((row) => row.rowKey);
    assert.ok(keys.includes(rowKeys.checkpoint(checkpoint.sequence)));
    assert.ok(keys.includes(`outbox|${String(checkpoint.sequence).padStart(15, '0')}|checkpoint`), 'the event waits in its own outbox row');
    const page = await deps.auditLog.checkpointPage(10);
    assert.deepEqual(page.items[0]?.event, 'pending');

    assert.equal(await publishPendingEvents(deps), 1);
    assert.deepEqual(
      checkpointEvents(deps).map((event) => [event.id, event.data.sequence]),
      [[`audit-checkpoint-${checkpoint.sequence}`, checkpoint.sequence]],
    );
    assert.deepEqual(await deps.outbox.pending(10), []);
    assert.equal((await deps.auditLog.checkpointPage(10)).items[0]?.event, 'published');
  });

  it("keeps a record's event and a checkpoint's event at the same sequence apart, in sequence order", async () => {
    const { deps } = await witnessedHarness();
    deps.bus.failNext(); // the domain's event stays in the outbox
    await addSipDomain(deps, admin, 'contoso.com' as Fqdn);
    deps.bus.failNext(); // and so does the checkpoint's
    const checkpoint = await checkpointAuditLog(deps);
    assert.ok(checkpoint);
    const pending = await deps.outbox.pending(10);
    assert.deepEqual(
      pending.map((event) => [event.type, event.data.sequence]),
      [
        ['pchat.sip-domain.added.v1', checkpoint.sequence],
        [CHECKPOINT_EVENT_TYPE, checkpoint.sequence],
      ],
    );
    // Marking the checkpoint's event published deletes its row only.
    await deps.outbox.markPublished(pending[1] as CloudEvent);
    assert.deepEqual(
      (await deps.outbox.pending(10)).map((event) => event.type),
      ['pchat.sip-domain.added.v1'],
    );
  });

  it('appends each checkpoint to the day file of its UTC date, and marks its row written', async () => {
    const { deps, container, clock } = await witnessedHarness();
    const first = await grow(deps, 'contoso.com');
    clock.set('2026-11-21T00:03:00.000Z');
    const second = await grow(deps, 'fabrikam.com');
    assert.equal(witnessBlobName(first), 'checkpoints/2026-11-20.ndjson');
    assert.equal(witnessBlobName(second), 'checkpoints/2026-11-21.ndjson');
    const line = (c: AuditCheckpoint) =>
      `${JSON.stringify({ sequence: c.sequence, hash: c.hash, time: c.time, keyId: c.keyId, algorithm: c.algorithm, signature: c.signature })}\n`;
    assert.equal(await dayFile(container, 'checkpoints/2026-11-20.ndjson'), line(first));
    assert.equal(await dayFile(container, 'checkpoints/2026-11-21.ndjson'), line(second));
    const properties = await container.getBlobClient('checkpoints/2026-11-20.ndjson').getProperties();
    assert.equal(properties.blobType, 'AppendBlob');
    const page = await deps.auditLog.checkpointPage(10);
    assert.deepEqual(
      page.items.map((item) => [item.checkpoint.sequence, item.event, item.blob]),
      [
        [second.sequence, 'published', 'written'],
        [first.sequence, 'published', 'written'],
      ],
    );
    const rows = await partitionRows(deps.table, PARTITION);
    const row = rows.find((r) => r.rowKey === rowKeys.checkpoint(first.sequence));
    assert.equal(row?.witnessBlob, 'written');
    assert.equal(typeof row?.witnessBlobAt, 'string');
  });

  it('a failed blob write stays pending and is written on a later tick; a repeated append reads back once', async () => {
    const container = freshContainer();
    const { deps, witness } = await witnessedHarness(container);
    let down = true;
    const flaky: AuditWitness = {
      write: async (checkpoints) => {
        if (down) throw new Error('blob service unavailable');
        await witness.write(checkpoints);
      },
      read: () => witness.read(),
    };
    const flakyDeps: StoreHarness = { ...deps, auditWitness: flaky };
    await addSipDomain(flakyDeps, admin, 'contoso.com' as Fqdn);
    const first = await checkpointAuditLog(flakyDeps);
    await addSipDomain(flakyDeps, admin, 'fabrikam.com' as Fqdn);
    const second = await checkpointAuditLog(flakyDeps);
    assert.equal(await witnessCheckpoints(flakyDeps), 0);
    assert.deepEqual(
      (await deps.auditLog.checkpointPage(10)).items.map((item) => item.blob),
      ['pending', 'pending'],
    );
    assert.ok(deps.log.warnings.includes('checkpoint left for the blob witness to copy on a later tick'));
    down = false;
    assert.equal(await witnessCheckpoints(flakyDeps), 2);
    assert.equal(await witnessCheckpoints(flakyDeps), 0, 'nothing left to copy');
    assert.deepEqual(
      (await deps.auditLog.checkpointPage(10)).items.map((item) => item.blob),
      ['written', 'written'],
    );
    // A crash between the append and the row's update appends the same line again: harmless.
    await witness.write([first as AuditCheckpoint]);
    const text = await dayFile(container, witnessBlobName(first as AuditCheckpoint));
    assert.equal(text.split('\n').filter(Boolean).length, 3);
    assert.deepEqual(
      (await witness.read()).map((c) => c.sequence),
      [first?.sequence, second?.sequence],
    );
  });

  it('the verifier reports a checkpoint deleted from the table as checkpoint_missing, from the witness copy', async () => {
    const { deps } = await witnessedHarness();
    const first = await grow(deps, 'contoso.com');
    await grow(deps, 'fabrikam.com');
    assert.equal((await verifyAuditLog(deps)).intact, true);
    await deps.table.deleteEntity(PARTITION, rowKeys.checkpoint(first.sequence));
    const report = await verifyAuditLog(deps);
    assert.equal(report.intact, false);
    assert.deepEqual(report.firstBreak?.sequence, first.sequence);
    assert.deepEqual(
      report.breaks.map((b) => [b.sequence, b.kind]),
      [[first.sequence, BreakKind.checkpointMissing]],
    );
    assert.equal(report.checkpoints.checked, 2, 'the witness copy is checked against its record and its signature');
  });

  it('the verifier reports a rewritten checkpoint row as checkpoint_mismatch, and checks the witness copies against the records', async () => {
    const { deps } = await witnessedHarness();
    const first = await grow(deps, 'contoso.com');
    await grow(deps, 'fabrikam.com');
    // Rewrite the row with another (still self-consistent) time: its signature no longer holds either.
    const row = await deps.table.getEntity<{ data: string }>(PARTITION, rowKeys.checkpoint(first.sequence));
    const rewritten = { ...(JSON.parse(row.data) as AuditCheckpoint), time: '2026-01-01T00:00:00.000Z' };
    await deps.table.upsertEntity(
      { partitionKey: PARTITION, rowKey: rowKeys.checkpoint(first.sequence), data: JSON.stringify(rewritten) },
      'Merge',
    );
    const report = await verifyAuditLog(deps);
    assert.deepEqual(
      report.breaks.map((b) => [b.sequence, b.kind]).sort(),
      [
        [first.sequence, BreakKind.checkpointForged],
        [first.sequence, BreakKind.checkpointMismatch],
      ].sort(),
    );
    const mismatch = report.breaks.find((b) => b.kind === BreakKind.checkpointMismatch);
    assert.match(mismatch?.detail ?? '', /the witness's signature holds, the table's does not hold/);
  });

  it('reads nothing from a witness whose container does not exist yet', async () => {
    assert.deepEqual(await new BlobAuditWitness(freshContainer()).read(), []);
  });
});
