/**
 * What a command prints. stdout carries the answer (a readable table or block, or with --json the
 * API's JSON exactly); stderr carries reasons, errors and, only on a terminal, progress.
 */

export interface Output {
  json: boolean;
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr is a terminal: progress lines are drawn only then, so piped output stays clean. */
  progressOn: boolean;
  /** Draws (or with undefined clears) the one progress line on stderr. */
  progress(text: string | undefined): void;
}

export function processOutput(json: boolean): Output {
  const progressOn = process.stderr.isTTY === true;
  let drawn = false;
  return {
    json,
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    progressOn,
    progress: (text) => {
      if (!progressOn) return;
      if (text === undefined) {
        if (drawn) process.stderr.write('\r\x1b[2K');
        drawn = false;
        return;
      }
      process.stderr.write(`\r\x1b[2K${text}`);
      drawn = true;
    },
  };
}

/** Text that came from the server, made safe for a terminal: control characters (escape sequences) shown as \u{..}. */
export function printable(value: unknown): string {
  const text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`);
}

/** Columns of rows, padded; an empty list prints a note instead. */
export function table<T>(rows: T[], columns: Array<[header: string, pick: (row: T) => unknown]>): string {
  if (rows.length === 0) return '(none)';
  const cells = rows.map((row) => columns.map(([, pick]) => printable(pick(row))));
  const headers = columns.map(([header]) => header);
  const widths = headers.map((header, i) => Math.max(header.length, ...cells.map((line) => (line[i] ?? '').length)));
  const render = (line: string[]) =>
    line
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [render(headers), render(widths.map((w) => '-'.repeat(w))), ...cells.map(render)].join('\n');
}

/** One object as `name : value` lines (PowerShell's Format-List). */
export function block(fields: Array<[name: string, value: unknown]>): string {
  const width = Math.max(...fields.map(([name]) => name.length));
  return fields.map(([name, value]) => `${name.padEnd(width)} : ${printable(value)}`).join('\n');
}

/** Prints the API's JSON exactly (with --json) or the readable form. */
export function show(output: Output, body: unknown, readable: () => string): void {
  output.out(output.json ? JSON.stringify(body, null, 2) : readable());
}
