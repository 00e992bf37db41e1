import { spawnSync } from 'node:child_process';
import path from 'node:path';

/**
 * `npm run soak [-- <kills per step>]`: the fault-injection suite with many more kills than
 * `npm test` runs (default 200 per step). It prints its figures at the end.
 */
const killsPerStep = process.argv[2] ?? process.env.FAULT_KILLS_PER_STEP ?? '200';
if (!/^[1-9]\d*$/.test(killsPerStep)) {
  console.error(`kills per step must be a positive whole number, not "${killsPerStep}"`);
  process.exit(2);
}
const suite = path.resolve(__dirname, '..', 'test', 'e2e', 'faultInjection.e2e.test.js');
const run = spawnSync(process.execPath, ['--test', '--test-reporter=spec', suite], {
  stdio: 'inherit',
  env: { ...process.env, FAULT_KILLS_PER_STEP: killsPerStep },
});
process.exit(run.status ?? 1);
