import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The README's example block, run as a script and checked against the statuses its comments state.
 *
 * The format, for contributors: a command whose answer matters ends (on its last line, after any
 * `\` continuation lines) with a comment `# -> <status>`, optionally followed by words:
 * `curl -s -H "$R" $B/topology   # -> 200`, `curl -si -X DELETE ... # -> 409 pool_has_endpoint`.
 * Every command that runs curl must state one. A command that must succeed in another way (a
 * `grep` for an outcome) fails the run when it exits non-zero. The block must not use curl's
 * `-w`/`--write-out`: the checker's wrapper uses it to read each status.
 */

/** `# -> 202` (and anything after it): the status a command answers. */
const STATUS_COMMENT = /#\s*->\s*(\d{3})\b/;

/** The fenced block's lines and where they sit in the README (1-based line numbers). */
export interface ExampleBlock {
  /** README line number of the block's first content line (the one after ```sh). */
  firstLine: number;
  lines: string[];
  /** How many lines the README has: the script keeps every line at its README line number. */
  readmeLineCount: number;
}

/** One command: a line and the `\` continuation lines that follow it. */
export interface ExampleCommand {
  firstLine: number;
  lastLine: number;
  text: string;
  /** The status its `# -> NNN` comment states, if any. */
  expected?: number;
  /** Whether it runs curl (outside a comment). */
  runsCurl: boolean;
}

/** The first ```sh block under the heading `## <heading>`. */
export function extractBlock(readme: string, heading: string): ExampleBlock {
  const lines = readme.split('\n');
  const headingAt = lines.findIndex((line) => line === `## ${heading}`);
  if (headingAt < 0) throw new Error(`README has no "## ${heading}" heading`);
  for (let i = headingAt + 1; i < lines.length && !lines[i]!.startsWith('## '); i++) {
    if (lines[i] !== '```sh') continue;
    const end = lines.findIndex((line, j) => j > i && line === '```');
    if (end < 0) throw new Error(`README line ${i + 1}: the \`\`\`sh block is not closed`);
    return { firstLine: i + 2, lines: lines.slice(i + 1, end), readmeLineCount: lines.length };
  }
  throw new Error(`README has no \`\`\`sh block under "## ${heading}"`);
}

/** The block's commands, each with its README line range and the status it states. */
export function parseCommands(block: ExampleBlock): ExampleCommand[] {
  const commands: ExampleCommand[] = [];
  let current: string[] = [];
  let start = block.firstLine;
  block.lines.forEach((line, index) => {
    if (current.length === 0) start = block.firstLine + index;
    current.push(line);
    if (line.endsWith('\\')) return;
    const code = current.filter((l) => !l.trimStart().startsWith('#'));
    const stated = STATUS_COMMENT.exec(line);
    commands.push({
      firstLine: start,
      lastLine: start + current.length - 1,
      text: current.join('\n'),
      ...(stated ? { expected: Number(stated[1]) } : {}),
      runsCurl: code.some((l) => /(^|[\s;|&(`])curl\s/.test(l.replace(/#.*$/, ''))),
    });
    current = [];
  });
  return commands;
}

/**
 * The script's prelude: stop at the first failing command, note where (ERR), and wrap curl so that
 * each call appends its README line (bash's BASH_LINENO: the script keeps README line numbers),
 * status and exit code to the log. `%{stderr}` sends -w's output to stderr, which the wrapper
 * appends to the log with curl's own error messages, so captured stdout ($(...)) stays as written.
 */
const PRELUDE = `set -eE
trap 'echo "@@failed $LINENO $?" >>"$PCHAT_README_LOG"' ERR
curl() {
  local line=\${BASH_LINENO[0]} rc=0
  command curl --silent --show-error --max-time 30 --write-out "%{stderr}\\n@@status $line %{http_code}\\n" "$@" 2>>"$PCHAT_README_LOG" || rc=$?
  echo "@@exit $line $rc" >>"$PCHAT_README_LOG"
  return "$rc"
}
`;

/** What a run of the block did. */
export interface ExampleRun {
  exitCode: number | null;
  timedOut: boolean;
  /** stdout and stderr of the script, for the failure message. */
  output: string;
  statuses: Array<{ line: number; status: number }>;
  curlExits: Array<{ line: number; code: number }>;
  failedAt: Array<{ line: number; code: number }>;
  /** The wrapper's log as written (curl's error messages included). */
  log: string;
}

/**
 * Runs the block with bash in `cwd`: the script is the README with every line outside the block
 * blanked (so bash's line numbers are the README's) and line 1 sourcing the prelude.
 */
export async function runBlock(
  block: ExampleBlock,
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<ExampleRun> {
  const prelude = path.join(options.cwd, 'readme-prelude.sh');
  const script = path.join(options.cwd, 'readme-examples.sh');
  const logFile = path.join(options.cwd, 'readme-statuses.log');
  writeFileSync(prelude, PRELUDE);
  writeFileSync(logFile, '');
  const lines = new Array<string>(block.readmeLineCount).fill('');
  lines[0] = `. '${prelude}'`;
  block.lines.forEach((line, i) => (lines[block.firstLine - 1 + i] = line));
  writeFileSync(script, lines.join('\n') + '\n');

  const child = spawn('bash', [script], {
    cwd: options.cwd,
    env: { ...options.env, PCHAT_README_LOG: logFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs);
  const exitCode = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  clearTimeout(timer);

  const log = readFileSync(logFile, 'utf8');
  const events = (kind: string) =>
    [...log.matchAll(new RegExp(`^@@${kind} (\\d+) (\\d+)$`, 'gm'))].map((m) => [Number(m[1]), Number(m[2])] as const);
  return {
    exitCode,
    timedOut,
    output,
    log,
    statuses: events('status').map(([line, status]) => ({ line, status })),
    curlExits: events('exit').map(([line, code]) => ({ line, code })),
    failedAt: events('failed').map(([line, code]) => ({ line, code })),
  };
}

/**
 * Every way the run differs from the block's comments, each naming its README line: a curl without
 * a stated status, a status other than the stated one, a curl that could not complete, a command
 * that failed, a stated command that never ran, a run that did not finish.
 */
export function differences(commands: ExampleCommand[], run: ExampleRun): string[] {
  const at = (line: number) => commands.find((c) => c.firstLine <= line && line <= c.lastLine);
  const where = (line: number) => {
    const command = at(line);
    return `README.md:${command?.firstLine ?? line}: ${command ? command.text.split('\n')[0]!.trim() : '(no command)'}`;
  };
  const found: string[] = [];
  for (const command of commands) {
    if (command.runsCurl && command.expected === undefined)
      found.push(`${where(command.firstLine)}\n  runs curl but states no status (end its last line with "# -> <status>")`);
    if (command.expected !== undefined && !run.statuses.some((s) => at(s.line) === command) && !run.timedOut && run.exitCode === 0)
      found.push(`${where(command.firstLine)}\n  states ${command.expected} but no curl on it ran`);
  }
  for (const { line, status } of run.statuses) {
    const expected = at(line)?.expected;
    // 000: no answer at all; the curl's exit code below says why.
    if (expected !== undefined && status !== 0 && status !== expected)
      found.push(`${where(line)}\n  answered ${status}, its comment says ${expected}`);
  }
  for (const { line, code } of run.curlExits)
    if (code !== 0) found.push(`${where(line)}\n  curl exited ${code} (${curlErrorNear(run.log, line)})`);
  for (const { line, code } of run.failedAt) found.push(`${where(line)}\n  the command failed (exit status ${code})`);
  if (run.timedOut) found.push(`the block did not finish in time; the last curl ran at ${where(run.statuses.at(-1)?.line ?? 0)}`);
  else if (run.exitCode !== 0 && run.failedAt.length === 0) found.push(`bash exited ${run.exitCode}`);
  return found;
}

/** curl's own message for the failed call on that line (written to the log just before its exit line). */
function curlErrorNear(log: string, line: number): string {
  const lines = log.split('\n');
  const exit = lines.findIndex((l) => new RegExp(`^@@exit ${line} [1-9]`).test(l));
  const message = lines
    .slice(0, Math.max(exit, 0))
    .reverse()
    .find((l) => l.startsWith('curl:'));
  return message ?? 'no message';
}
