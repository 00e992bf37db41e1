import { execFile } from 'node:child_process';
import path from 'node:path';

/** The repository's root (this file compiles to dist/test/support/). */
const ROOT = path.resolve(__dirname, '..', '..', '..');

/** The compiled command line, as `npx pchat` runs it. */
export const PCHAT = path.join(ROOT, 'dist', 'cli', 'pchat.js');

/** `npm run audit:verify`'s compiled script. */
export const AUDIT_VERIFY = path.join(ROOT, 'dist', 'scripts', 'auditVerify.js');

/** How a script run ended: its exit status (null when it was killed, say by the timeout) and what it printed. */
export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a compiled script as its own process, with exactly `env` (nothing of the test's own
 * environment leaks in) and pipes, never a terminal. Asynchronous, so an Azurite or a host running
 * in the test's process keeps answering it.
 */
export function runScript(script: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<ScriptRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { env, timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
