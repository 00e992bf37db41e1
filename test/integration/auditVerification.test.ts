import { execFile } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TableClient } from '@azure/data-tables';
import { uuidv7 } from '../../shared/adapters/system';
import { rowKeys } from '../../shared/adapters/tables/rowKeys';
import { checkpointAuditLog } from '../../shared/application/audit/checkpointAuditLog';
import { verifyAuditLog } from '../../shared/application/audit/verifyAuditLog';
import { applyChangeRequest } from '../../shared/application/changeRequests/applyChangeRequest';
import { addSipDomain, registerPool } from '../../shared/application/topology';
import { hashAuditRecord, type AuditRecord } from '../../shared/domain/audit';
import { BreakKind, type AuditCheckpoint } from '../../shared/domain/auditVerification';
import { checkpointSigningFor } from '../../shared/composition/compose';
import { jwkThumbprint } from '../../shared/domain/signingKeys';
import { parseSettings } from '../../shared/settings';
import type { Fqdn, SipAddress } from '../../shared/domain/names';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { localSigning, newStoreHarness, type StoreHarness } from '../support/storeHarness';

const PARTITION = 'default';
const admin = { actor: 'admin@contoso.com', correlationId: 'corr-topology' };
const signingKey = generateKeyPairSync('ed25519').privateKey;
const signingKeyId = jwkThumbprint(signingKey);

let azurite: TestAzurite;

/** A key's public half as PEM (what `openssl pkey -pubout` writes): the form of a retired key in AUDIT_VERIFY_KEYS. */
const publicPem = (key: KeyObject) => createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();

interface Log {
  table: TableClient;
  deps: StoreHarness;
  size: number;
}

/**
 * A log of 12 records (a domain, three pools, eight change requests), with signed checkpoints at
 * record 6 and at the head, in a table of its own.
 */
async function writtenLog(key: KeyObject = signingKey): Promise<Log> {
  const deps = await newStoreHarness(azurite.connectionString, { partition: PARTITION, signingKey: key });
  const table = deps.table;
  await addSipDomain(deps, admin, 'contoso.com' as Fqdn);
  for (const n of [1, 2, 3]) await registerPool(deps, admin, `pool${n}.contoso.com` as Fqdn, `sip:default${n}@contoso.com` as SipAddress);
  const change = (operation: 'create' | 'delete', user: string, pool = 'pool1.contoso.com') =>
    applyChangeRequest(deps, {
      changeRequestId: uuidv7(),
      actor: 'alice',
      correlationId: uuidv7(),
      channel: 'queue',
      request:
        operation === 'create'
          ? { operation, sipAddress: `sip:${user}@contoso.com` as SipAddress, poolFqdn: pool as Fqdn }
          : { operation, sipAddress: `sip:${user}@contoso.com` as SipAddress },
    });
  await change('create', 'a');
  await change('create', 'b', 'pool2.contoso.com');
  assert.equal((await checkpointAuditLog(deps))?.sequence, 6);
  for (const [operation, user] of [
    ['delete', 'a'],
    ['create', 'a'],
    ['create', 'c', 'pool3'],
    ['delete', 'b'],
    ['delete', 'nobody'],
    ['create', 'b'],
  ] as const) {
    await change(operation, user, user === 'c' ? 'pool3.contoso.com' : 'pool2.contoso.com');
  }
  assert.equal((await checkpointAuditLog(deps))?.sequence, 12);
  assert.equal(await checkpointAuditLog(deps), undefined, 'no new checkpoint while the log has not grown');
  return { table, deps, size: 12 };
}

async function recordAt(log: Log, sequence: number): Promise<AuditRecord> {
  const row = await log.table.getEntity<{ data: string }>(PARTITION, rowKeys.audit(sequence));
  return JSON.parse(row.data) as AuditRecord;
}

async function storeAt(log: Log, sequence: number, record: AuditRecord): Promise<void> {
  await log.table.upsertEntity({ partitionKey: PARTITION, rowKey: rowKeys.audit(sequence), data: JSON.stringify(record) }, 'Merge');
}

/** Rewrites a stored checkpoint row, as someone with write access to the table could. */
async function rewriteCheckpoint(log: Log, sequence: number, change: (stored: AuditCheckpoint) => AuditCheckpoint): Promise<void> {
  const row = await log.table.getEntity<{ data: string }>(PARTITION, rowKeys.checkpoint(sequence));
  const data = JSON.stringify(change(JSON.parse(row.data) as AuditCheckpoint));
  await log.table.upsertEntity({ partitionKey: PARTITION, rowKey: rowKeys.checkpoint(sequence), data }, 'Merge');
}

/** Runs a script as its own process; asynchronously, because Azurite answers from this process. */
function run(script: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [script], { env, encoding: 'utf8' }, (_error, stdout, stderr) =>
      resolve({ status: child.exitCode, stdout, stderr }),
    );
  });
}

const breaksOf = async (log: Log) => (await verifyAuditLog(log.deps)).breaks.map((b) => [b.sequence, b.kind]);

describe('audit log verification against tampering in Azurite', () => {
  before(async () => {
    azurite = await startTestAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });

  it('an untouched log is intact: every record, its links, the head and both signed checkpoints', async () => {
    const log = await writtenLog();
    const report = await verifyAuditLog(log.deps);
    assert.deepEqual(report, {
      intact: true,
      recordsChecked: 12,
      head: report.head,
      firstBreak: null,
      breaks: [],
      checkpoints: {
        checked: 2,
        newest: { sequence: 12, time: report.checkpoints.newest?.time, keyId: signingKeyId },
        signingKey: 'configured',
        byKey: [{ keyId: signingKeyId, checkpoints: 2 }],
      },
    });
    assert.equal(report.head.sequence, 12);
  });

  it('names an edited record', async () => {
    const log = await writtenLog();
    await storeAt(log, 5, { ...(await recordAt(log, 5)), actor: 'mallory' });
    const report = await verifyAuditLog(log.deps);
    assert.equal(report.intact, false);
    assert.deepEqual(report.firstBreak?.kind, BreakKind.contentAltered);
    assert.deepEqual(await breaksOf(log), [[5, BreakKind.contentAltered]]);
  });

  it('names a deleted record', async () => {
    const log = await writtenLog();
    await log.table.deleteEntity(PARTITION, rowKeys.audit(7));
    assert.deepEqual(await breaksOf(log), [[7, BreakKind.recordMissing]]);
    assert.match((await verifyAuditLog(log.deps)).firstBreak?.detail ?? '', /record 7 is missing/);
  });

  it('names reordered records', async () => {
    const log = await writtenLog();
    const [fourth, fifth] = [await recordAt(log, 4), await recordAt(log, 5)];
    await storeAt(log, 4, fifth);
    await storeAt(log, 5, fourth);
    const report = await verifyAuditLog(log.deps);
    assert.deepEqual([report.firstBreak?.sequence, report.firstBreak?.kind], [4, BreakKind.outOfOrder]);
    assert.deepEqual(
      report.breaks.filter((b) => b.kind === BreakKind.outOfOrder).map((b) => b.sequence),
      [4, 5],
    );
  });

  it('names a log cut short (the newest records deleted) through the head', async () => {
    const log = await writtenLog();
    for (const sequence of [11, 12]) await log.table.deleteEntity(PARTITION, rowKeys.audit(sequence));
    assert.deepEqual(await breaksOf(log), [
      [10, BreakKind.headMismatch],
      [11, BreakKind.recordMissing],
    ]);
  });

  it('a log rewritten from an earlier point with every hash recomputed still fails its signed checkpoints', async () => {
    const log = await writtenLog();
    // The attacker edits record 5 and re-chains everything after it, head included: every link fits.
    let previousHash = (await recordAt(log, 4)).hash;
    for (let sequence = 5; sequence <= log.size; sequence++) {
      const original = await recordAt(log, sequence);
      const { hash: _old, ...content } = { ...original, previousHash, ...(sequence === 5 ? { actor: 'mallory' } : {}) };
      const rewritten: AuditRecord = { ...content, hash: hashAuditRecord(content) };
      await storeAt(log, sequence, rewritten);
      previousHash = rewritten.hash;
    }
    const head = await log.table.getEntity<{ data: string }>(PARTITION, rowKeys.head);
    await log.table.updateEntity(
      { partitionKey: PARTITION, rowKey: rowKeys.head, data: JSON.stringify({ ...JSON.parse(head.data), hash: previousHash }) },
      'Merge',
    );

    assert.deepEqual(await breaksOf(log), [
      [6, BreakKind.checkpointMismatch],
      [12, BreakKind.checkpointMismatch],
    ]);
  });

  it('reports checkpoints whose key id the verifier does not know, naming the key', async () => {
    const log = await writtenLog();
    const other: KeyObject = generateKeyPairSync('ed25519').privateKey;
    const report = await verifyAuditLog({ ...log.deps, ...localSigning(other) });
    assert.equal(report.intact, false);
    assert.deepEqual(report.breaks, [
      {
        sequence: 6,
        kind: 'checkpoint_key_unknown',
        detail: `the checkpoint at record 6 names key ${signingKeyId}, which the verifier does not know`,
      },
      {
        sequence: 12,
        kind: 'checkpoint_key_unknown',
        detail: `the checkpoint at record 12 names key ${signingKeyId}, which the verifier does not know`,
      },
    ]);
  });

  it('reports a checkpoint whose signature was altered as forged', async () => {
    const log = await writtenLog();
    await rewriteCheckpoint(log, 6, (stored) => {
      const signature = Buffer.from(stored.signature, 'base64');
      signature[0] = (signature[0] as number) ^ 1;
      return { ...stored, signature: signature.toString('base64') };
    });

    const report = await verifyAuditLog(log.deps);
    assert.deepEqual(report.breaks, [
      { sequence: 6, kind: 'checkpoint_forged', detail: `the checkpoint at record 6 is not signed by key ${signingKeyId}` },
    ]);
  });

  it('reports a checkpoint relabelled with another time as forged: the key id and the time are both signed', async () => {
    const log = await writtenLog();
    await rewriteCheckpoint(log, 12, (stored) => ({ ...stored, time: '2020-01-01T00:00:00.000Z' }));
    assert.deepEqual(await breaksOf(log), [[12, BreakKind.checkpointForged]]);
  });

  it('an EC P-256 PEM key signs ES256 checkpoints (r || s) that verify, keyed by its JWK thumbprint', async () => {
    const ecKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const log = await writtenLog(ecKey);
    const [newest] = await log.deps.auditLog.checkpoints(1);
    assert.equal(newest?.keyId, jwkThumbprint(ecKey));
    assert.equal(newest?.algorithm, 'ES256');
    assert.equal(Buffer.from(newest?.signature ?? '', 'base64').length, 64, 'IEEE P1363 r || s, not DER');

    const report = await verifyAuditLog(log.deps);
    assert.equal(report.intact, true, JSON.stringify(report.breaks));
    assert.deepEqual(report.checkpoints.byKey, [{ keyId: jwkThumbprint(ecKey), checkpoints: 2 }]);
    // The Ed25519 key of the other logs does not verify them: its ring does not know this key id.
    assert.deepEqual(
      (await verifyAuditLog({ ...log.deps, ...localSigning(signingKey) })).breaks.map((b) => b.kind),
      ['checkpoint_key_unknown', 'checkpoint_key_unknown'],
    );
  });

  it('checkpoints stored before key ids (v1: no keyId, no algorithm) still verify with the local Ed25519 key', async () => {
    const log = await writtenLog();
    // What the checkpoint timer stored before key ids: the v1 statement, signed by the Ed25519 key.
    const head = await log.deps.auditLog.head();
    await log.table.deleteEntity(PARTITION, rowKeys.checkpoint(12));
    const v1 = { sequence: head.sequence, hash: head.hash, time: '2024-05-01T10:00:00.000Z' };
    const v1Statement = `pchat-audit-checkpoint/v1\n${v1.sequence}\n${v1.hash}\n${v1.time}`;
    await log.deps.auditLog.addCheckpoint({ ...v1, signature: sign(null, Buffer.from(v1Statement), signingKey).toString('base64') });

    const report = await verifyAuditLog(log.deps);
    assert.equal(report.intact, true, JSON.stringify(report.breaks));
    assert.deepEqual(report.checkpoints.newest, { sequence: 12, time: v1.time, keyId: null });
    assert.deepEqual(report.checkpoints.byKey, [
      { keyId: null, checkpoints: 1 },
      { keyId: signingKeyId, checkpoints: 1 },
    ]);

    // Tampered, or without the local Ed25519 key (an EC key's ring), the v1 checkpoint is reported.
    const ecRing = localSigning(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    assert.deepEqual(
      (await verifyAuditLog({ ...log.deps, ...ecRing })).breaks.filter((b) => b.sequence === 12),
      [
        {
          sequence: 12,
          kind: 'checkpoint_key_unknown',
          detail: 'the checkpoint at record 12 was signed before key ids (v1) by the local Ed25519 key, and no such key is configured',
        },
      ],
    );
    await rewriteCheckpoint(log, 12, (stored) => ({ ...stored, time: '2024-05-01T10:00:01.000Z' }));
    assert.deepEqual(await breaksOf(log), [[12, BreakKind.checkpointForged]]);
  });

  it('after a rotation to another Ed25519 key, v1 checkpoints verify with the retired key given in AUDIT_VERIFY_KEYS', async () => {
    const log = await writtenLog();
    const head = await log.deps.auditLog.head();
    await log.table.deleteEntity(PARTITION, rowKeys.checkpoint(12));
    const v1 = { sequence: head.sequence, hash: head.hash, time: '2024-05-01T10:00:00.000Z' };
    const v1Statement = `pchat-audit-checkpoint/v1\n${v1.sequence}\n${v1.hash}\n${v1.time}`;
    await log.deps.auditLog.addCheckpoint({ ...v1, signature: sign(null, Buffer.from(v1Statement), signingKey).toString('base64') });
    const newKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const signingWith = (env: Record<string, string>) =>
      checkpointSigningFor(parseSettings({ AzureWebJobsStorage: azurite.connectionString, AUDIT_SIGNING_KEY: newKey, ...env }));

    const rotated = await verifyAuditLog({ ...log.deps, ...signingWith({ AUDIT_VERIFY_KEYS: publicPem(signingKey) }) });
    assert.equal(rotated.intact, true, JSON.stringify(rotated.breaks));
    assert.deepEqual(rotated.checkpoints.byKey, [
      { keyId: null, checkpoints: 1 },
      { keyId: signingKeyId, checkpoints: 1 },
    ]);
    // Without the retired key, the new Ed25519 key does not verify the v1 checkpoint, and the keyed one is unknown.
    assert.deepEqual(
      (await verifyAuditLog({ ...log.deps, ...signingWith({}) })).breaks.map((b) => [b.sequence, b.kind]),
      [
        [6, BreakKind.checkpointKeyUnknown],
        [12, BreakKind.checkpointForged],
      ],
    );
  });

  it('npm run audit:verify checks with the verify-only keys too: intact after a rotation, unknown keys without them', async () => {
    const log = await writtenLog();
    const script = path.resolve(__dirname, '..', '..', 'scripts', 'auditVerify.js');
    const env = {
      ...process.env,
      AzureWebJobsStorage: azurite.connectionString,
      DIRECTORY_TABLE: log.table.tableName,
      AUDIT_SIGNING_KEY: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
    const rotated = await run(script, { ...env, AUDIT_VERIFY_KEYS: publicPem(signingKey) });
    assert.equal(rotated.status, 0, rotated.stdout + rotated.stderr);
    assert.match(rotated.stdout, new RegExp(`intact: 12 records, head 12, 2 signed checkpoints \\(key configured; ${signingKeyId}: 2\\)`));

    const without = await run(script, env);
    assert.equal(without.status, 1, without.stderr);
    assert.match(without.stdout, /BROKEN at record 6: checkpoint_key_unknown/);
  });

  it('npm run audit:verify exits 0 on an intact log and 1, naming the record, on a broken one', async () => {
    const log = await writtenLog();
    const script = path.resolve(__dirname, '..', '..', 'scripts', 'auditVerify.js');
    const env = {
      ...process.env,
      AzureWebJobsStorage: azurite.connectionString,
      DIRECTORY_TABLE: log.table.tableName,
      AUDIT_SIGNING_KEY: signingKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
    const intact = await run(script, env);
    assert.equal(intact.status, 0, intact.stderr);
    assert.match(intact.stdout, new RegExp(`intact: 12 records, head 12, 2 signed checkpoints \\(key configured; ${signingKeyId}: 2\\)`));

    await storeAt(log, 3, { ...(await recordAt(log, 3)), subject: 'pool:elsewhere.contoso.com' });
    const broken = await run(script, env);
    assert.equal(broken.status, 1, broken.stderr);
    assert.match(broken.stdout, /BROKEN at record 3: content_altered/);
  });
});
