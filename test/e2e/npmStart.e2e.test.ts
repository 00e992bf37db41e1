import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isListening } from '../../shared/local/azurite';
import { startNpmStartProcess } from '../support/npmStartProcess';
import { freePort } from '../support/freePort';

const workspace = mkdtempSync(path.join(os.tmpdir(), 'pchat-start-'));

describe('npm start (the local host entry point)', () => {
  after(() => rmSync(workspace, { recursive: true, force: true }));

  it('starts Azurite, loads the demo topology, prints generated API keys, serves the API to them only, and stops on SIGINT', async () => {
    const [port, blob, queue, table] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(port),
      AZURITE_BLOB_PORT: String(blob),
      AZURITE_QUEUE_PORT: String(queue),
      AZURITE_TABLE_PORT: String(table),
      AZURITE_LOCATION: workspace,
    };
    delete env.AzureWebJobsStorage;
    // As a developer's shell would be: no keys configured, so npm start makes them.
    delete env.LOCAL_API_KEYS;
    delete env.AUTH_MODE;
    const started = await startNpmStartProcess(env, { timeoutMs: 30_000 });
    const { child, exited } = started;
    const output = started.output();
    assert.match(output, new RegExp(`listening on http://localhost:${port}/api`), output);
    assert.match(output, /Loaded the demo topology/);
    // One key per role, printed with its principal and roles, kept (owner-only) in the data folder.
    const printed = [...output.matchAll(/^ {2}(local-\w+) +roles (\w+) +key (\S+)$/gm)].map(([, principal, roles, key]) => ({
      principal,
      roles: [roles],
      key,
    }));
    assert.deepEqual(
      printed.map((k) => k.principal),
      ['local-submitter', 'local-operator', 'local-auditor', 'local-reader'],
      output,
    );
    const keyFile = path.join(workspace, 'local-api-keys.json');
    assert.deepEqual(JSON.parse(readFileSync(keyFile, 'utf8')), printed);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.equal(readFileSync(path.join(workspace, '.gitignore'), 'utf8').trim().split('\n').pop(), '*');
    // The README's examples source the keys as shell variables.
    const envFile = path.join(workspace, 'local-api-keys.env');
    assert.equal(statSync(envFile).mode & 0o777, 0o600);
    const sourced = execFileSync(
      'sh',
      [
        '-c',
        `. '${envFile}' && printf '%s %s %s %s' "$PCHAT_SUBMITTER_KEY" "$PCHAT_OPERATOR_KEY" "$PCHAT_AUDITOR_KEY" "$PCHAT_READER_KEY"`,
      ],
      {
        encoding: 'utf8',
      },
    );
    assert.deepEqual(
      sourced.split(' '),
      printed.map((k) => k.key),
    );

    const anonymous = await fetch(`http://127.0.0.1:${port}/api/topology`);
    assert.deepEqual(
      [anonymous.status, anonymous.headers.get('www-authenticate'), ((await anonymous.json()) as { code: string }).code],
      [401, 'Bearer realm="pchat"', 'unauthenticated'],
    );
    const readerKey = sourced.split(' ')[3] ?? '';
    const asReader = { headers: { authorization: `Bearer ${readerKey}` } };
    const topology = (await (await fetch(`http://127.0.0.1:${port}/api/topology`, asReader)).json()) as {
      sipDomains: Array<{ name: string }>;
      pools: Array<{ fqdn: string; defaultEndpoint: { sipAddress: string } }>;
      users: Array<{ sipAddress: string }>;
    };
    assert.deepEqual(
      [
        topology.sipDomains.map((d) => d.name),
        topology.pools.map((p) => [p.fqdn, p.defaultEndpoint.sipAddress]),
        topology.users.map((u) => u.sipAddress),
      ],
      [
        ['contoso.com'],
        [
          ['pcpool.contoso.com', 'sip:pcpool@contoso.com'],
          ['pcpool2.contoso.com', 'sip:pcpool2@contoso.com'],
        ],
        ['sip:ocschat@contoso.com'],
      ],
    );

    child.kill('SIGINT');

    assert.equal(await exited, 0, started.output());
    assert.match(started.output(), /Stopped\./);
    assert.equal(await isListening(table), false, 'Azurite was stopped with the host');
    assert.equal(await isListening(port), false);
  });
});
