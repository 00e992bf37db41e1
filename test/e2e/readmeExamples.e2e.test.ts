import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { APP_ROOT } from '../support/localHost';
import { startNpmStartProcess } from '../support/npmStartProcess';
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
    // The block runs the built CLI as a clone would (node dist/cli/pchat.js): the workspace links the build and its packages.
    for (const name of ['dist', 'node_modules']) symlinkSync(path.join(APP_ROOT, name), path.join(workspace, name), 'dir');
    // From the clone's root, as a developer runs it.
    const started = await startNpmStartProcess(env, { cwd: workspace, timeoutMs: 60_000 });
    const { child, exited } = started;
    const output = started.output();
    try {
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
      // Stopped whatever happened; a failure above stays the one reported.
      if (child.exitCode === null) child.kill('SIGINT');
      await exited;
    }
    assert.equal(child.exitCode, 0, started.output());
  });
});

/** A README whose block states statuses, some of them wrong, for a server that answers the status its path names. */
const SYNTHETIC_README = [
  '# Title',
  '## API',
  '```sh',
  'B=http://127.0.0.1:$STUB_PORT',
  'curl -s $B/200            # -> 200',
  'curl -s $B/404 \\',
  '  -H "x-a: 1"              # -> 200 says 200, answers 404',
  'ID=$(curl -s $B/201)      # -> 201',
  'curl -s $B/204',
  'curl -s $B/200 | grep nothing-like-this',
  'curl -s $B/200            # -> 200 never reached',
  '```',
].join('\n');

describe('the README example checker', () => {
  it('names the README line of a status that differs, a curl stating none, and a failing command', async () => {
    const server = createServer((request, response) => response.writeHead(Number(request.url?.slice(1))).end('{}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'pchat-readme-check-'));
    try {
      const block = extractBlock(SYNTHETIC_README, 'API');
      const commands = parseCommands(block);
      assert.deepEqual(
        commands.map((c) => [c.firstLine, c.lastLine, c.expected, c.runsCurl]),
        [
          [4, 4, undefined, false],
          [5, 5, 200, true],
          [6, 7, 200, true],
          [8, 8, 201, true],
          [9, 9, undefined, true],
          [10, 10, undefined, true],
          [11, 11, 200, true],
        ],
      );
      const port = (server.address() as AddressInfo).port;
      const run = await runBlock(block, { cwd, env: { ...process.env, STUB_PORT: String(port) }, timeoutMs: 30_000 });
      assert.deepEqual(differences(commands, run), [
        'README.md:9: curl -s $B/204\n  runs curl but states no status (end its last line with "# -> <status>")',
        'README.md:10: curl -s $B/200 | grep nothing-like-this\n  runs curl but states no status (end its last line with "# -> <status>")',
        'README.md:6: curl -s $B/404 \\\n  answered 404, its comment says 200',
        'README.md:10: curl -s $B/200 | grep nothing-like-this\n  the command failed (exit status 1)',
      ]);
    } finally {
      server.close();
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('names a curl that cannot connect', async () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'pchat-readme-check-'));
    try {
      const block = extractBlock(['## API', '```sh', `curl -s http://127.0.0.1:${await freePort()}/   # -> 200`, '```'].join('\n'), 'API');
      const run = await runBlock(block, { cwd, env: process.env, timeoutMs: 30_000 });
      const found = differences(parseCommands(block), run);
      assert.match(
        found[0] ?? '',
        /^README\.md:3: curl -s http:\/\/127\.0\.0\.1:\d+\/ {3}# -> 200\n {2}curl exited 7 \(curl: \(7\) Failed to connect/,
      );
      assert.equal(found[1], found[0]?.replace(/\n.*$/, '\n  the command failed (exit status 7)'));
      assert.equal(found.length, 2, found.join('\n'));
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
