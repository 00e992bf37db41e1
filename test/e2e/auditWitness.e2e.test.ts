import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { rowKeys } from '../../shared/adapters/tables/rowKeys';
import type { AuditCheckpoint } from '../../shared/domain/auditVerification';
import { auditCheckpointTimer } from '../../shared/entrypoints/timers';
import { DeploymentNames } from '../../shared/settings';
import { aTopology } from '../support/apiData';
import { apiClient, drainQueue, eventually, startE2EEnvironment, type ApiCall, type E2EEnvironment } from '../support/localHost';

/**
 * Witnessed checkpoints end to end: the local host (auth on) over Azurite's tables, queues and
 * blobs. The checkpoint timer's entrypoint runs with the host's own composition (as its timer
 * would, without waiting five minutes); everything else goes through real HTTP. Azurite does not
 * enforce immutability policies, so the blob witness is tested for what it writes and what the
 * verifier makes of it, not for Azure refusing a rewrite.
 */

const signingKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

let env: E2EEnvironment;
let auditor: ApiCall;
let operator: ApiCall;

/** Grows the log through the API, then runs the checkpoint timer: answers the checkpoint it signed. */
async function checkpointAfterChanges(): Promise<AuditCheckpoint> {
  await aTopology(operator);
  const checkpoint = await auditCheckpointTimer(env.dependencies);
  assert.ok(checkpoint, 'the timer signs a checkpoint');
  return checkpoint;
}

/** The directory table the host writes, for tampering with it as someone with write access to storage could. */
const directoryTable = () =>
  TableClient.fromConnectionString(env.azurite.connectionString, DeploymentNames.tables.directory, { allowInsecureConnection: true });

describe('witnessed checkpoints over HTTP', () => {
  before(async () => {
    env = await startE2EEnvironment({ loadDemoTopology: false, settings: { AUDIT_SIGNING_KEY: signingKey } });
    auditor = apiClient(env.baseUrl, env.keys.auditor);
    operator = apiClient(env.baseUrl, env.keys.operator);
  });
  after(async () => {
    await env?.stop();
  });

  it('publishes the checkpoint event on audit-events and lists the checkpoint with both witnesses', async () => {
    await drainQueue(env.queues, 'audit-events');
    const checkpoint = await checkpointAfterChanges();
    const events = await eventually(async () => {
      const found = (await drainQueue(env.queues, 'audit-events')).filter((event) => event.type === 'pchat.audit.checkpoint.v1');
      return found.length > 0 ? found : undefined;
    });
    const id = `audit-checkpoint-${checkpoint.sequence}`;
    assert.deepEqual(events, [
      {
        specversion: '1.0',
        id,
        source: '/pchat-endpoints/default',
        type: 'pchat.audit.checkpoint.v1',
        subject: 'audit/checkpoints',
        time: checkpoint.time,
        datacontenttype: 'application/json',
        sequence: String(checkpoint.sequence).padStart(16, '0'),
        correlationid: id,
        data: {
          sequence: checkpoint.sequence,
          hash: checkpoint.hash,
          time: checkpoint.time,
          keyId: checkpoint.keyId,
          algorithm: 'EdDSA',
          signature: checkpoint.signature,
        },
      },
    ]);

    const data = (events[0] as { data: AuditCheckpoint }).data;
    const page = await auditor('GET', '/audit/checkpoints?limit=1');
    assert.equal(page.status, 200);
    assert.deepEqual(page.body.items, [{ ...data, witnesses: { event: 'published', blob: 'written' } }]);

    // The day file in the witness container holds the same checkpoint.
    const container = BlobServiceClient.fromConnectionString(env.azurite.connectionString).getContainerClient('audit-checkpoints');
    const day = await container.getBlobClient(`checkpoints/${checkpoint.time.slice(0, 10)}.ndjson`).downloadToBuffer();
    assert.ok(day.toString('utf8').split('\n').includes(JSON.stringify(data)));
  });

  it('pages with a cursor, streams every checkpoint as ndjson, and names a bad parameter', async () => {
    await checkpointAfterChanges();
    const first = await auditor('GET', '/audit/checkpoints?limit=1');
    assert.equal(first.status, 200);
    assert.equal(typeof first.body.nextCursor, 'string');
    const second = await auditor('GET', `/audit/checkpoints?limit=1&cursor=${encodeURIComponent(first.body.nextCursor)}`);
    assert.equal(second.status, 200);
    assert.ok(second.body.items[0].sequence < first.body.items[0].sequence, 'newest first');

    const response = await fetch(`${env.baseUrl}/audit/checkpoints?format=ndjson`, {
      headers: { authorization: `Bearer ${env.keys.auditor}` },
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/x-ndjson; charset=utf-8');
    const lines = (await response.text())
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    const all = await auditor('GET', '/audit/checkpoints?limit=1000');
    assert.deepEqual(
      lines,
      all.body.items.map(({ witnesses: _witnesses, ...checkpoint }: { witnesses: unknown }) => checkpoint),
    );

    const bad = await auditor('GET', '/audit/checkpoints?limit=0&format=xml');
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: { pointer: string }) => e.pointer).sort(), ['#/format', '#/limit']);
    const forged = await auditor('GET', '/audit/checkpoints?cursor=eyJhZnRlciI6ImF1ZGl0fDEifQ');
    assert.equal(forged.status, 400);
    assert.deepEqual(forged.body.errors[0].pointer, '#/cursor');
    assert.equal((await apiClient(env.baseUrl, env.keys.reader)('GET', '/audit/checkpoints')).status, 403);
  });

  it('GET /api/audit/verify reports a deleted checkpoint row as checkpoint_missing from the blob copy, and a rewritten one', async () => {
    const deleted = await checkpointAfterChanges();
    const rewritten = await checkpointAfterChanges();
    assert.equal((await auditor('GET', '/audit/verify')).body.intact, true);

    const table = directoryTable();
    await table.deleteEntity('default', rowKeys.checkpoint(deleted.sequence));
    const missing = await auditor('GET', '/audit/verify');
    assert.equal(missing.status, 200);
    assert.equal(missing.body.intact, false);
    assert.deepEqual(
      missing.body.breaks.map((b: { sequence: number; kind: string }) => [b.sequence, b.kind]),
      [[deleted.sequence, 'checkpoint_missing']],
    );

    const row = await table.getEntity<{ data: string }>('default', rowKeys.checkpoint(rewritten.sequence));
    const forged = { ...(JSON.parse(row.data) as AuditCheckpoint), hash: 'f'.repeat(64) };
    await table.upsertEntity(
      { partitionKey: 'default', rowKey: rowKeys.checkpoint(rewritten.sequence), data: JSON.stringify(forged) },
      'Merge',
    );
    const report = (await auditor('GET', '/audit/verify')).body;
    const kinds = report.breaks.filter((b: { sequence: number }) => b.sequence === rewritten.sequence).map((b: { kind: string }) => b.kind);
    assert.ok(kinds.includes('checkpoint_mismatch'), JSON.stringify(report.breaks));
    assert.equal(report.firstBreak.kind, 'checkpoint_missing');
  });
});
