import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TableClient } from '@azure/data-tables';
import { rowKeys } from '../../shared/adapters/tables/rowKeys';
import type { AuditCheckpoint } from '../../shared/domain/auditVerification';
import { auditCheckpointTimer } from '../../shared/entrypoints/timers';
import { aTopology } from '../support/apiData';
import { apiClient, APP_ROOT, drainQueue, startE2EEnvironment, type E2EEnvironment } from '../support/localHost';
import { PCHAT, runScript } from '../support/scripts';
import { verifyExportFiles } from './independentVerifier';

/** pchat with no API URL or key in its environment: an offline check fetches nothing. */
const pchat = (...args: string[]) => runScript(PCHAT, args, { PATH: process.env.PATH ?? '' });

const ndjson = (values: unknown[]) => values.map((v) => `${JSON.stringify(v)}\n`).join('');

describe('an export of the real service, checked by a verifier written only from the README', () => {
  const signingKey = generateKeyPairSync('ed25519').privateKey;
  let env: E2EEnvironment;
  let folder: string;
  const file = (name: string) => path.join(folder, name);

  before(async () => {
    const pem = signingKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    env = await startE2EEnvironment({ loadDemoTopology: false, settings: { AUDIT_SIGNING_KEY: pem } });
    folder = await mkdtemp(path.join(tmpdir(), 'pchat-spec-'));
  });
  after(async () => {
    await rm(folder, { recursive: true, force: true });
    await env?.stop();
  });

  /** One of the auditor's downloads, saved under `name`. */
  async function save(route: string, name: string): Promise<string> {
    const response = await fetch(`${env.baseUrl}${route}`, { headers: { authorization: `Bearer ${env.keys.auditor}` } });
    assert.equal(response.status, 200, route);
    const text = await response.text();
    await writeFile(file(name), text);
    return text;
  }

  /** The export, the checkpoints and the keys as an auditor downloads them (the review page's kit). */
  async function download(): Promise<AuditCheckpoint[]> {
    await save('/audit?format=ndjson', 'audit.ndjson');
    await save('/audit/signing-keys', 'keys.json');
    const checkpoints = await save('/audit/checkpoints?format=ndjson', 'checkpoints.ndjson');
    return checkpoints
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as AuditCheckpoint);
  }

  it('the independent verifier imports nothing but node:crypto and node:fs', async () => {
    const source = await readFile(path.join(APP_ROOT, 'test', 'spec', 'independentVerifier.ts'), 'utf8');
    const imports = [...source.matchAll(/\b(?:from|import|require)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);
    assert.deepEqual([...new Set(imports)].sort(), ['node:crypto', 'node:fs']);
  });

  it('finds the export intact, then names an edited record; pchat agrees; a witness copy catches a deleted checkpoint', async () => {
    const call = apiClient(env.baseUrl, env.keys.all);
    await aTopology(call, { pools: 2 });
    await drainQueue(env.queues, 'audit-events');
    const first = await auditCheckpointTimer(env.dependencies);
    await aTopology(call);
    const second = await auditCheckpointTimer(env.dependencies);
    assert.ok(first && second && second.sequence > first.sequence);
    await aTopology(call); // records newer than the newest checkpoint: chained, not yet signed
    const checkpoints = await download();
    assert.equal(checkpoints.length, 2);

    assert.deepEqual(verifyExportFiles(file('audit.ndjson'), file('checkpoints.ndjson'), file('keys.json')), []);
    const intact = await pchat(
      'audit',
      'verify',
      '--file',
      file('audit.ndjson'),
      '--checkpoints',
      file('checkpoints.ndjson'),
      '--keys',
      file('keys.json'),
    );
    assert.equal(intact.code, 0, intact.stderr);
    assert.match(intact.stdout, /^intact: .*\(the whole log from record 1\)/);
    assert.match(intact.stdout, /not covered by any checkpoint: records \d+-\d+/);

    // Edit one record in the file, as someone handing over a doctored export would.
    const lines = (await readFile(file('audit.ndjson'), 'utf8')).split('\n');
    const target = JSON.parse(lines[3] as string);
    lines[3] = JSON.stringify({ ...target, actor: 'someone-else@contoso.com' });
    await writeFile(file('edited.ndjson'), lines.join('\n'));
    assert.deepEqual(verifyExportFiles(file('edited.ndjson'), file('checkpoints.ndjson'), file('keys.json')), [
      { sequence: target.sequence, what: 'content does not hash to its hash' },
    ]);
    const edited = await pchat(
      'audit',
      'verify',
      '--file',
      file('edited.ndjson'),
      '--checkpoints',
      file('checkpoints.ndjson'),
      '--keys',
      file('keys.json'),
    );
    assert.equal(edited.code, 1);
    assert.match(edited.stderr, new RegExp(`^pchat: broken: content_altered at sequence ${target.sequence}: `));

    // A witness keeps its copy (a subscriber's saved pchat.audit.checkpoint.v1 events, as published
    // on audit-events); then the first checkpoint's row is deleted from the table, as someone with
    // write access to storage could.
    const events = (await drainQueue(env.queues, 'audit-events')).filter((event) => event.type === 'pchat.audit.checkpoint.v1');
    assert.equal(events.length, 2);
    await writeFile(file('witness.ndjson'), ndjson(events));
    const table = TableClient.fromConnectionString(env.azurite.connectionString, 'directory', { allowInsecureConnection: true });
    await table.deleteEntity('default', rowKeys.checkpoint(first.sequence));
    await download();
    const cut = await pchat(
      'audit',
      'verify',
      '--file',
      file('audit.ndjson'),
      '--checkpoints',
      file('checkpoints.ndjson'),
      '--checkpoints',
      file('witness.ndjson'),
      '--keys',
      file('keys.json'),
    );
    assert.equal(cut.code, 1, cut.stdout);
    assert.match(
      cut.stderr,
      new RegExp(
        `^pchat: broken: checkpoint_missing at sequence ${first.sequence}: \\S*witness\\.ndjson holds a checkpoint of record ${first.sequence} .* that \\S*checkpoints\\.ndjson lacks`,
      ),
    );
  });
});
