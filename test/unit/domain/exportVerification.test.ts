import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { appendToChain, GENESIS_HEAD, hashAuditRecord, type AuditDraft, type AuditRecord } from '../../../shared/domain/audit';
import { checkpointStatement, unsignedCheckpoint, type AuditCheckpoint } from '../../../shared/domain/auditVerification';
import {
  ExportFormatError,
  ExportVerifier,
  FilteredMatcher,
  parseCheckpointLine,
  parseExportLine,
  type CheckpointCopy,
  type ExportReport,
} from '../../../shared/domain/exportVerification';
import { thumbprintKey, type VerificationKey } from '../../../shared/domain/signingKeys';

function draft(n: number): AuditDraft {
  return {
    id: `id-${n}`,
    actor: 'admin@contoso.com',
    action: 'pool.registered',
    subject: `pool:pc${n}.contoso.com`,
    changeRequestId: null,
    correlationId: `c-${n}`,
    causationId: null,
    outcome: { status: 'applied' },
    before: null,
    after: { fqdn: `pc${n}.contoso.com` },
  };
}

/** A log of `count` records, oldest first. */
function log(count: number): AuditRecord[] {
  return appendToChain(
    GENESIS_HEAD,
    Array.from({ length: count }, (_, i) => draft(i + 1)),
    new Date('2026-11-01T00:00:00Z'),
  ).records;
}

function signer(): { key: VerificationKey; privateKey: KeyObject } {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { key: thumbprintKey(privateKey) as VerificationKey, privateKey };
}

function checkpointOf(record: AuditRecord, { key, privateKey }: ReturnType<typeof signer>): AuditCheckpoint {
  const unsigned = unsignedCheckpoint(record, '2026-11-01T01:00:00.000Z', key);
  return { ...unsigned, signature: sign(null, checkpointStatement(unsigned), privateKey).toString('base64') };
}

function verify(records: AuditRecord[], copies: CheckpointCopy[] = [], keys?: VerificationKey[], truncated = false): ExportReport {
  const verifier = new ExportVerifier({ copies, keys });
  for (const record of records) verifier.add(record);
  if (truncated) verifier.markTruncated();
  return verifier.finish();
}

const kinds = (report: ExportReport) => report.breaks.map((b) => [b.sequence, b.kind]);

describe('offline verification of an export (shared/domain/exportVerification.ts)', () => {
  const s = signer();
  const records = log(6);
  const newestFirst = [...records].reverse();
  const copy = (name: string, ...at: number[]): CheckpointCopy => ({
    name,
    checkpoints: at.map((n) => checkpointOf(records[n - 1] as AuditRecord, s)),
  });

  it('an untouched whole log, newest first: intact, from record 1, signatures checked, the newest records not yet covered', () => {
    const report = verify(newestFirst, [copy('api', 2, 4)], [s.key]);
    assert.deepEqual(
      { ...report, checkpoints: { ...report.checkpoints } },
      {
        intact: true,
        recordsChecked: 6,
        firstBreak: null,
        breaks: [],
        range: { oldest: 1, newest: 6 },
        order: 'newest first',
        wholeLog: true,
        truncated: false,
        oldestLink: 'genesis',
        checkpoints: {
          checked: 2,
          inRange: 2,
          signatures: 'checked',
          copies: [{ name: 'api', checkpoints: 2 }],
          byKey: [{ keyId: s.key.keyId, checkpoints: 2 }],
        },
        notCovered: { from: 5, to: 6 },
      },
    );
  });

  it('oldest first is accepted too', () => {
    const report = verify(records, [copy('api', 6)], [s.key]);
    assert.equal(report.intact, true);
    assert.equal(report.order, 'oldest first');
    assert.equal(report.notCovered, null);
  });

  it('an edited record is content_altered at its sequence', () => {
    const edited = newestFirst.map((r) => (r.sequence === 3 ? { ...r, actor: 'mallory' } : r));
    assert.deepEqual(kinds(verify(edited)), [[3, 'content_altered']]);
  });

  it('an edited record with its hash recomputed breaks the link to it, and the checkpoint that covers it', () => {
    const edited = newestFirst.map((r) => {
      if (r.sequence !== 3) return r;
      const { hash: _h, ...content } = { ...r, actor: 'mallory' };
      return { ...content, hash: hashAuditRecord(content) };
    });
    assert.deepEqual(kinds(verify(edited, [copy('api', 3)], [s.key])), [
      [3, 'checkpoint_mismatch'],
      [4, 'link_broken'],
    ]);
  });

  it('a gap is record_missing naming the range, and says a file alone cannot tell filtering from deletion', () => {
    const report = verify(newestFirst.filter((r) => r.sequence !== 3 && r.sequence !== 4));
    assert.deepEqual(kinds(report), [[3, 'record_missing']]);
    assert.match(report.firstBreak?.detail ?? '', /^records 3-4 are missing: deleted, or the export is filtered .*--against/);
  });

  it('records out of order are out_of_order', () => {
    const swapped = [records[5], records[3], records[4], records[2], records[1], records[0]] as AuditRecord[];
    assert.deepEqual(kinds(verify(swapped)), [
      [4, 'record_missing'],
      [5, 'record_missing'],
      [5, 'out_of_order'],
    ]);
  });

  it('a window: its oldest link is unchecked, or checked against a checkpoint just before it', () => {
    const window = newestFirst.filter((r) => r.sequence >= 3);
    const unchecked = verify(window, [], [s.key], true);
    assert.deepEqual([unchecked.intact, unchecked.wholeLog, unchecked.oldestLink, unchecked.truncated], [true, false, 'unchecked', true]);
    const anchored = verify(window, [copy('api', 2)], [s.key]);
    assert.deepEqual([anchored.intact, anchored.oldestLink, anchored.checkpoints.inRange], [true, 'checkpoint', 0]);
    assert.deepEqual(anchored.notCovered, { from: 3, to: 6 });
  });

  it('record 1 must link to genesis', () => {
    const first = records[0] as AuditRecord;
    const { hash: _h, ...content } = { ...first, previousHash: 'f'.repeat(64) };
    assert.deepEqual(kinds(verify([{ ...content, hash: hashAuditRecord(content) }])), [[1, 'link_broken']]);
  });

  it('a forged signature, an unknown key and a v1 checkpoint checked with the set of Ed25519 keys', () => {
    const [forged] = copy('api', 2).checkpoints as [AuditCheckpoint];
    forged.time = '2030-01-01T00:00:00.000Z';
    assert.deepEqual(kinds(verify(newestFirst, [{ name: 'api', checkpoints: [forged] }], [s.key])), [[2, 'checkpoint_forged']]);
    assert.deepEqual(kinds(verify(newestFirst, [copy('api', 2)], [signer().key])), [[2, 'checkpoint_key_unknown']]);

    const r4 = records[3] as AuditRecord;
    const v1Statement = Buffer.from(`pchat-audit-checkpoint/v1\n4\n${r4.hash}\n2026-01-01T00:00:00.000Z`);
    const v1: AuditCheckpoint = {
      sequence: 4,
      hash: r4.hash,
      time: '2026-01-01T00:00:00.000Z',
      signature: sign(null, v1Statement, s.privateKey).toString('base64'),
    };
    const other = signer().key;
    const held = verify(newestFirst, [{ name: 'api', checkpoints: [v1] }], [other, s.key]);
    assert.deepEqual([held.intact, held.checkpoints.byKey], [true, [{ keyId: null, checkpoints: 1 }]]);
    assert.deepEqual(kinds(verify(newestFirst, [{ name: 'api', checkpoints: [v1] }], [other])), [[4, 'checkpoint_forged']]);
  });

  it("copies that disagree: one a witness holds and the log's copy lacks is checkpoint_missing, two different at one sequence checkpoint_mismatch", () => {
    const missing = verify(newestFirst, [copy('table', 2), copy('witness', 2, 4)], [s.key]);
    assert.deepEqual(kinds(missing), [[4, 'checkpoint_missing']]);
    assert.match(missing.firstBreak?.detail ?? '', /^witness holds a checkpoint of record 4 .* that table lacks: it was deleted$/);
    // A witness that began later (it lacks the log's older checkpoint) is no break.
    assert.deepEqual(kinds(verify(newestFirst, [copy('table', 2, 4), copy('witness', 4)], [s.key])), []);

    const rewritten = copy('table', 2);
    (rewritten.checkpoints[0] as AuditCheckpoint).time = '2026-11-01T02:00:00.000Z';
    assert.deepEqual(kinds(verify(newestFirst, [rewritten, copy('witness', 2)], [s.key])), [
      [2, 'checkpoint_mismatch'],
      [2, 'checkpoint_forged'],
    ]);
  });

  it('without keys only the hashes are compared, and the report says the signatures were not checked', () => {
    const report = verify(newestFirst, [copy('api', 2)]);
    assert.deepEqual([report.intact, report.checkpoints.signatures], [true, 'not checked']);
  });
});

describe('export and checkpoint lines', () => {
  const record = log(1)[0] as AuditRecord;

  it('parses a record, and the export.truncated line', () => {
    assert.deepEqual(parseExportLine(JSON.stringify(record), 1), { kind: 'record', record });
    assert.deepEqual(parseExportLine('{"action":"export.truncated","limit":5,"message":"m","until":"t"}', 9), {
      kind: 'truncated',
      message: 'm',
    });
  });

  it('refuses what is not an audit record, naming the line and the member', () => {
    const refusal = (text: string) => {
      try {
        parseExportLine(text, 7);
      } catch (error) {
        assert.ok(error instanceof ExportFormatError);
        return error.message;
      }
      assert.fail('accepted');
    };
    assert.equal(refusal('{"sequence":'), 'line 7: is not JSON');
    assert.equal(refusal('[1]'), 'line 7: is not a JSON object');
    assert.match(
      refusal(JSON.stringify({ ...record, hash: 'XYZ' })),
      /^line 7: is not an audit record \(hash: must be 64 lowercase hex digits\)$/,
    );
    assert.match(refusal(JSON.stringify({ ...record, sequence: 0 })), /^line 7: is not an audit record \(sequence: /);
    assert.equal(
      refusal(JSON.stringify(record).replace('admin@contoso.com', 'admin\\ud800')),
      'line 7: holds a lone UTF-16 surrogate (not well-formed Unicode), which no audit record holds',
    );
  });

  it('a checkpoints line is a checkpoint or its CloudEvent; witnesses and other members are dropped', () => {
    const checkpoint = { sequence: 4, hash: 'a'.repeat(64), time: 't', keyId: 'k', algorithm: 'EdDSA', signature: 'c2ln' };
    assert.deepEqual(parseCheckpointLine(JSON.stringify({ ...checkpoint, witnesses: { event: 'published', blob: 'off' } }), 1), checkpoint);
    const event = { specversion: '1.0', type: 'pchat.audit.checkpoint.v1', id: 'audit-checkpoint-4', source: 's', data: checkpoint };
    assert.deepEqual(parseCheckpointLine(JSON.stringify(event), 2), checkpoint);
    assert.throws(
      () => parseCheckpointLine(JSON.stringify({ ...event, type: 'pchat.endpoint.created.v1' }), 3),
      /line 3: is an event of type pchat.endpoint.created.v1/,
    );
    assert.throws(
      () => parseCheckpointLine(JSON.stringify({ ...checkpoint, algorithm: undefined }), 4),
      /line 4: is not a checkpoint \(the line: keyId and algorithm/,
    );
  });
});

describe('a filtered export against a contiguous one', () => {
  const records = log(6);
  const newestFirst = [...records].reverse();

  async function match(filtered: AuditRecord[]) {
    let index = 0;
    const cursor = {
      current: newestFirst[0],
      async advance() {
        index++;
        this.current = newestFirst[index];
      },
    };
    const matcher = new FilteredMatcher('newest first');
    for (const [line, record] of filtered.entries()) await matcher.match(record, line + 1, cursor);
    return matcher.finish();
  }

  it('each record must be the contiguous export’s record at its sequence', async () => {
    assert.deepEqual(await match([newestFirst[1], newestFirst[4]] as AuditRecord[]), { recordsChecked: 2, breaks: [] });
    const other = log(7)[6] as AuditRecord;
    const forged = { ...other, sequence: 3 };
    const { hash: _h, ...content } = forged;
    const report = await match([{ ...content, hash: hashAuditRecord(content) }]);
    assert.deepEqual(
      report.breaks.map((b) => [b.sequence, b.kind]),
      [[3, 'content_altered']],
    );
  });

  it('a record outside the contiguous range, or out of order, cannot be checked', async () => {
    const beyond = { ...(newestFirst[0] as AuditRecord), sequence: 9 };
    await assert.rejects(match([newestFirst[3], beyond] as AuditRecord[]), /line 2: record 9 is out of order/);
    await assert.rejects(match([beyond]), /line 1: record 9 is outside the contiguous export's range/);
  });
});
