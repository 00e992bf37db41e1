import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { APP_ROOT } from '../support/localHost';
import { freePort } from '../support/freePort';
import { differences, extractBlock, parseCommands, runBlock } from '../support/readmeExamples';

const workspace = mkdtempSync(path.join(os.tmpdir(), 'pchat-readme-'));

/** What npm start needs from a developer's shell: nothing configured, so it starts Azurite and makes keys. */
function freshStartEnvironment(ports: { port: number; blob: number; queue: number; table: number }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(ports.port),
    AZURITE_BLOB_PORT: String(ports.blob),
    AZURITE_QUEUE_PORT: String(ports.queue),
    AZURITE_TABLE_PORT: String(ports.table),
    // In the workspace, as .azurite/ is in a clone: the block sources .azurite/local-api-keys.env from there.
    AZURITE_LOCATION: path.join(workspace, '.azurite'),
  };
  delete env.AzureWebJobsStorage;
  delete env.LOCAL_API_KEYS;
  delete env.AUTH_MODE;
  // The block must set its keys itself, from the file npm start writes.
  for (const name of Object.keys(env)) if (name.startsWith('PCHAT_')) delete env[name];
  return env;
}

describe("README's API examples", () => {
  after(() => rmSync(workspace, { recursive: true, force: true }));

  it('run top to bottom on a fresh npm start, each answering the status its comment states', async () => {
    const block = extractBlock(readFileSync(path.join(APP_ROOT, 'README.md'), 'utf8'), 'API');
    const commands = parseCommands(block);
    assert.ok(commands.filter((c) => c.expected !== undefined).length >= 20, 'the block states its statuses');

    const ports = { port: await freePort(), blob: await freePort(), queue: await freePort(), table: await freePort() };
    const env = freshStartEnvironment(ports);
    mkdirSync(workspace, { recursive: true });
    // npm start is `tsc -p . && node dist/shared/local/main.js`; the build has run, so the second half, from the clone's root.
    const child = spawn(process.execPath, [path.join(APP_ROOT, 'dist', 'shared', 'local', 'main.js')], {
      cwd: workspace,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 60_000;
      while (!output.includes('Press Ctrl-C to stop.') && Date.now() < deadline && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 100));
      assert.match(output, /Loaded the demo topology/, output);
      // npm start says how to load the keys, and the block does exactly that.
      const sourcing = /`(\. \S*local-api-keys\.env)`/.exec(output)?.[1];
      assert.equal(sourcing, '. .azurite/local-api-keys.env', output);
      assert.ok(
        block.lines.some((line) => line.startsWith(`${sourcing} `) || line === sourcing),
        `the block sources the keys as npm start says: ${sourcing}`,
      );

      const run = await runBlock(block, { cwd: workspace, env: { ...env, PORT: String(ports.port) }, timeoutMs: 180_000 });
      const found = differences(commands, run);
      assert.deepEqual(found, [], `${found.join('\n')}\n\n--- the block's output (end) ---\n${run.output.slice(-4000)}`);
      assert.ok(run.statuses.length >= commands.filter((c) => c.expected !== undefined).length);
    } finally {
      child.kill('SIGINT');
      assert.equal(await exited, 0, output);
    }
  });
});
