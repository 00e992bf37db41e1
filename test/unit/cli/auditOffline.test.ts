import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdtemp, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { appendToChain, GENESIS_HEAD, type AuditDraft, type AuditRecord } from '../../../shared/domain/audit';
import { checkpointStatement, unsignedCheckpoint, type AuditCheckpoint } from '../../../shared/domain/auditVerification';
import { jwkOf } from '../../../shared/domain/jwk';
import { thumbprintKey, type VerificationKey } from '../../../shared/domain/signingKeys';
import { AUDIT_VERIFY, PCHAT, runScript } from '../../support/scripts';

/** Runs a compiled entry point with no API URL or key in its environment: nothing may be fetched. */
const run = (script: string, ...args: string[]) => runScript(script, args, { PATH: process.env.PATH ?? '' });
const pchat = (...args: string[]) => run(PCHAT, 'audit', 'verify', ...args);

function draft(n: number): AuditDraft {
  return {
    id: `id-${n}`,
    actor: 'admin@contoso.com',
    action: 'endpoint.created',
    subject: n % 2 === 0 ? 'sip:even@contoso.com' : 'sip:odd@contoso.com',
    changeRequestId: `cr-${n}`,
    correlationId: `cr-${n}`,
    causationId: null,
    outcome: { status: 'applied' },
    before: null,
    after: { displayName: `Salle ${n} – réunion` },
  };
}

const ndjson = (values: unknown[]) => values.map((v) => `${JSON.stringify(v)}\n`).join('');

describe('pchat audit verify --file (offline: no URL, no key, no storage)', () => {
  let folder: string;
  let records: AuditRecord[];
  let newestFirst: AuditRecord[];
  let key: VerificationKey;
  let checkpoints: AuditCheckpoint[];
  const file = (name: string) => path.join(folder, name);

  before(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'pchat-offline-'));
    records = appendToChain(
      GENESIS_HEAD,
      Array.from({ length: 8 }, (_, i) => draft(i + 1)),
      new Date('2026-11-01T00:00:00Z'),
    ).records;
    newestFirst = [...records].reverse();
    const { privateKey } = generateKeyPairSync('ed25519');
    key = thumbprintKey(privateKey) as VerificationKey;
    checkpoints = [3, 6].map((n) => {
      const unsigned = unsignedCheckpoint(records[n - 1] as AuditRecord, `2026-11-01T0${n}:00:00.000Z`, key);
      return { ...unsigned, signature: sign(null, checkpointStatement(unsigned), privateKey).toString('base64') };
    });
    const events = checkpoints.map((c) => ({
      specversion: '1.0',
      type: 'pchat.audit.checkpoint.v1',
      source: '/pchat',
      id: `audit-checkpoint-${c.sequence}`,
      subject: 'audit/checkpoints',
      sequence: String(c.sequence).padStart(16, '0'),
      data: c,
    }));
    await writeFile(file('audit.ndjson'), ndjson(newestFirst));
    await writeFile(
      file('checkpoints.ndjson'),
      ndjson([...checkpoints].reverse().map((c) => ({ ...c, witnesses: { event: 'published', blob: 'off' } }))),
    );
    await writeFile(file('witness.ndjson'), ndjson(events));
    await writeFile(file('keys.json'), JSON.stringify({ keys: [jwkOf(key)] }));
  });
  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('an intact export with both copies of the checkpoints and the keys: exit 0, and what was covered', async () => {
    const result = await pchat(
      '--file',
      file('audit.ndjson'),
      '--checkpoints',
      file('checkpoints.ndjson'),
      '--checkpoints',
      file('witness.ndjson'),
      '--keys',
      file('keys.json'),
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.equal(
      result.stdout,
      [
        `intact: ${file('audit.ndjson')}: records 1-8 (the whole log from record 1), 8 records, newest first`,
        `checkpoints: 2 from 2 copies, 2 in range; signatures checked (${key.keyId}: 2)`,
        'not covered by any checkpoint: records 7-8 (chained, not yet signed)',
        '',
      ].join('\n'),
    );
    const json = await run(
      PCHAT,
      '--json',
      'audit',
      'verify',
      '--file',
      file('audit.ndjson'),
      '--checkpoints',
      file('witness.ndjson'),
      '--keys',
      file('keys.json'),
    );
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout);
    assert.deepEqual([report.intact, report.recordsChecked, report.wholeLog, report.notCovered], [true, 8, true, { from: 7, to: 8 }]);
  });

  it('one record edited in the file: exit 1, naming its sequence and content_altered (pchat and npm run audit:verify)', async () => {
    const edited = newestFirst.map((r) => (r.sequence === 5 ? { ...r, after: { displayName: 'edited' } } : r));
    await writeFile(file('edited.ndjson'), ndjson(edited));
    for (const result of [
      await pchat('--file', file('edited.ndjson'), '--checkpoints', file('checkpoints.ndjson'), '--keys', file('keys.json')),
      await run(AUDIT_VERIFY, '--file', file('edited.ndjson'), '--checkpoints', file('checkpoints.ndjson'), '--keys', file('keys.json')),
    ]) {
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /broken: content_altered at sequence 5: record 5's content does not hash to its hash\n$/);
    }
  });

  it('a checkpoint the API copy lacks and the witness copy holds: exit 1, checkpoint_missing', async () => {
    await writeFile(file('cut.ndjson'), ndjson([checkpoints[0]]));
    const result = await pchat(
      '--file',
      file('audit.ndjson'),
      '--checkpoints',
      file('cut.ndjson'),
      '--checkpoints',
      file('witness.ndjson'),
      '--keys',
      file('keys.json'),
    );
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(
        `broken: checkpoint_missing at sequence 6: ${file('witness.ndjson')} holds a checkpoint of record 6 .* that ${file('cut.ndjson')} lacks: it was deleted`,
      ),
    );
  });

  it('checkpoints without --keys: the hashes are compared, but it cannot vouch for them (exit 3), saying so', async () => {
    const result = await pchat('--file', file('audit.ndjson'), '--checkpoints', file('checkpoints.ndjson'));
    assert.equal(result.code, 3);
    assert.match(result.stdout, /signatures not checked/);
    assert.match(result.stderr, /signatures were NOT checked \(give --keys/);
    const noCheckpoints = await pchat('--file', file('audit.ndjson'));
    assert.equal(noCheckpoints.code, 0, noCheckpoints.stderr);
    assert.match(noCheckpoints.stdout, /checkpoints: none given: nothing signed vouches for these records/);
  });

  it('a filtered export: record_missing on its own (it says why), checked hash for hash with --against', async () => {
    const filtered = newestFirst.filter((r) => r.subject === 'sip:even@contoso.com');
    await writeFile(file('filtered.ndjson'), ndjson(filtered));
    const alone = await pchat('--file', file('filtered.ndjson'));
    assert.equal(alone.code, 1);
    assert.match(alone.stderr, /broken: record_missing at sequence 3: record 3 is missing: deleted, or the export is filtered .*--against/);

    const against = await pchat(
      '--file',
      file('filtered.ndjson'),
      '--against',
      file('audit.ndjson'),
      '--checkpoints',
      file('witness.ndjson'),
      '--keys',
      file('keys.json'),
    );
    assert.equal(against.code, 0, against.stderr);
    assert.match(against.stdout, /4 filtered records checked against/);

    const swapped = filtered.map((r) => (r.sequence === 4 ? { ...(records[8 - 1] as AuditRecord), sequence: 4 } : r));
    await writeFile(file('forged.ndjson'), ndjson(swapped));
    const forged = await pchat('--file', file('forged.ndjson'), '--against', file('audit.ndjson'));
    assert.equal(forged.code, 1);
    assert.match(forged.stderr, /broken: content_altered at sequence 4/);
  });

  it('input it cannot check: exit 3 naming the file and the line, never a crash or a hang', async () => {
    const lines = newestFirst.map((r) => JSON.stringify(r));
    const cases: Array<[name: string, content: string | Buffer, message: RegExp]> = [
      ['not-json.ndjson', `${lines[0]}\n{"sequence":\n`, /: line 2: is not JSON$/],
      ['not-record.ndjson', `${lines[0]}\n{"sequence":7,"hash":"abc"}\n`, /: line 2: is not an audit record \(/],
      [
        'surrogate.ndjson',
        `${(lines[0] as string).replace('admin@contoso.com', 'admin\\udc00')}\n`,
        /: line 1: holds a lone UTF-16 surrogate/,
      ],
      [
        'latin1.ndjson',
        Buffer.concat([Buffer.from(`${lines[0]}\n{"x":"`), Buffer.from([0xe9]), Buffer.from('"}\n')]),
        /: line 2: is not UTF-8$/,
      ],
      ['empty.ndjson', '', /: holds no audit records: not an export/],
      [
        'after-truncated.ndjson',
        `${lines[0]}\n{"action":"export.truncated","limit":1,"message":"m","until":"t"}\n${lines[1]}\n`,
        /: line 3: follows the export.truncated line/,
      ],
    ];
    for (const [name, content, message] of cases) {
      await writeFile(file(name), content);
      const result = await pchat('--file', file(name));
      assert.equal(result.code, 3, `${name}: ${result.stderr}`);
      assert.match(
        result.stderr.trim(),
        new RegExp(`^pchat: cannot check: ${file(name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}${message.source}`),
        name,
      );
    }
    const missing = await pchat('--file', file('nowhere.ndjson'));
    assert.deepEqual([missing.code, missing.stderr.trim()], [3, `pchat: cannot check: ${file('nowhere.ndjson')}: cannot be read (ENOENT)`]);
  });

  it('a 100 MB line is refused once it passes the bound, not read whole', async () => {
    await writeFile(file('huge.ndjson'), `${JSON.stringify(newestFirst[0])}\n{"a":"`);
    await truncate(file('huge.ndjson'), 100 * 1024 * 1024); // sparse: 100 MB of NUL bytes, no line break
    const started = Date.now();
    const result = await pchat('--file', file('huge.ndjson'));
    assert.equal(result.code, 3);
    assert.match(result.stderr, /huge\.ndjson: line 2: is longer than 4194304 bytes/);
    assert.ok(Date.now() - started < 20_000);
  });

  it('a bad keys file: exit 3 naming the key and member; a private key is refused', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    await writeFile(file('private.json'), JSON.stringify({ keys: [jwkOf(key), { ...privateKey.export({ format: 'jwk' }), kid: 'k' }] }));
    const result = await pchat('--file', file('audit.ndjson'), '--checkpoints', file('checkpoints.ndjson'), '--keys', file('private.json'));
    assert.equal(result.code, 3);
    assert.match(result.stderr, /private\.json: is not a JWK set: keys\[1\]\.d: is a private key member; give the public key only/);
  });

  it('a large export is streamed: 150,000 records verify in a 48 MB heap, smaller than the file', async () => {
    const count = 150_000;
    const out = createWriteStream(file('large.ndjson'));
    let head = GENESIS_HEAD;
    const oldestFirst: string[] = [];
    for (let from = 1; from <= count; from += 5000) {
      const batch = appendToChain(
        head,
        Array.from({ length: 5000 }, (_, i) => draft(from + i)),
        new Date('2026-11-01T00:00:00Z'),
      );
      head = batch.head;
      oldestFirst.push(ndjson(batch.records));
    }
    // Oldest first (the verifier accepts either order), written as it was made.
    for (const chunk of oldestFirst) if (!out.write(chunk)) await once(out, 'drain');
    oldestFirst.length = 0;
    out.end();
    await once(out, 'finish');
    assert.ok((await stat(file('large.ndjson'))).size > 48 * 1024 * 1024);
    const result = await run('--max-old-space-size=48', PCHAT, '--json', 'audit', 'verify', '--file', file('large.ndjson'));
    assert.equal(result.code, 0, result.stderr.slice(0, 500));
    const report = JSON.parse(result.stdout);
    assert.deepEqual([report.recordsChecked, report.range, report.order], [count, { oldest: 1, newest: count }, 'oldest first']);
  });

  it('--checkpoints, --keys and --against need --file (exit 2)', async () => {
    const result = await pchat('--keys', file('keys.json'));
    assert.deepEqual([result.code, result.stderr.trim()], [2, 'pchat: --keys needs --file (it checks an export offline)']);
  });
});
