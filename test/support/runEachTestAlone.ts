import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { APP_ROOT } from './localHost';

/**
 * Runs every test of the given compiled test files by itself, one `node --test
 * --test-name-pattern '^<its exact name>$'` process per test, and says which passed alone: the
 * proof that no test leans on what an earlier one left. Without arguments it takes every file in
 * dist/test/e2e/. Exits 1 if any test failed alone.
 *
 *     npx tsc -p . && node dist/test/support/runEachTestAlone.js dist/test/e2e/changeRequests.e2e.test.js
 */

const E2E_DIR = path.join(APP_ROOT, 'dist', 'test', 'e2e');
const NOT_SELECTED = ' # SKIP test name does not match pattern';

/** The name as a regular expression matching exactly it (the runner reads the pattern as a RegExp). */
const exactly = (name: string) => `^${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`;

function runTap(file: string, pattern: string): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, ['--test', '--test-reporter=tap', `--test-name-pattern=${pattern}`, file], {
    cwd: APP_ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** The leaf tests of a file: run with a pattern nothing matches, every test is reported as not selected. */
function testNames(file: string): string[] {
  const { output } = runTap(file, 'x^');
  return output
    .split('\n')
    .filter((line) => line.endsWith(NOT_SELECTED))
    .map((line) => line.slice(0, -NOT_SELECTED.length).replace(/^\s*ok \d+ - /, ''))
    .map((name) => name.replace(/\\([\\#])/g, '$1'));
}

/** The count on a TAP summary line such as `# pass 1`. */
const summaryCount = (output: string, what: string) => Number(new RegExp(`^# ${what} (\\d+)$`, 'm').exec(output)?.[1] ?? NaN);

function main(): void {
  const files = process.argv.length > 2 ? process.argv.slice(2) : readdirSync(E2E_DIR).filter((name) => name.endsWith('.e2e.test.js'));
  let passed = 0;
  let total = 0;
  for (const file of files.map((name) => path.resolve(E2E_DIR, name))) {
    const names = testNames(file);
    console.log(`${path.relative(APP_ROOT, file)}: ${names.length} tests`);
    for (const name of names) {
      total++;
      const started = Date.now();
      const { status, output } = runTap(file, exactly(name));
      // Exactly this test ran, and passed.
      const ok = status === 0 && summaryCount(output, 'pass') === 1 && summaryCount(output, 'fail') === 0;
      if (ok) passed++;
      console.log(`  ${ok ? 'pass' : 'FAIL'} ${((Date.now() - started) / 1000).toFixed(1)} s  ${name}`);
      if (!ok) console.log(output.split('\n').slice(-60).join('\n'));
    }
  }
  console.log(`${passed} of ${total} tests passed alone`);
  process.exitCode = passed === total ? 0 : 1;
}

// `node --test dist/test/` runs every file under test/ (NODE_TEST_CONTEXT is set then): only a direct run runs this.
if (require.main === module && process.env.NODE_TEST_CONTEXT === undefined) main();
