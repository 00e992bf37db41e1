import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { APP_ROOT } from './localHost';

/** The local host started as `npm start` starts it, in a child process, and what it has printed. */
export interface NpmStartProcess {
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr, interleaved). */
  output(): string;
  /** Its exit code, once it has exited. */
  exited: Promise<number | null>;
}

/**
 * `npm start` is `tsc -p . && node dist/shared/local/main.js`; the build has run, so this is the
 * second half. Resolves once it says it serves ("Press Ctrl-C to stop."), exits, or `timeoutMs` pass.
 */
export async function startNpmStartProcess(env: NodeJS.ProcessEnv, options: { cwd?: string; timeoutMs: number }): Promise<NpmStartProcess> {
  const child = spawn(process.execPath, [path.join(APP_ROOT, 'dist', 'shared', 'local', 'main.js')], {
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + options.timeoutMs;
  while (!output.includes('Press Ctrl-C to stop.') && Date.now() < deadline && child.exitCode === null)
    await new Promise((resolve) => setTimeout(resolve, 100));
  return { child, output: () => output, exited };
}
