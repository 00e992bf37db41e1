import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { failureOf, problemLines, retryAfterMs, type Answer, type ParameterNames, type Query } from './api';
import type { Context } from './context';
import { CliExit, ExitCode } from './exit';
import { printable, show, table } from './output';

/** The audit filters' API names as this command line spells them. */
export const AUDIT_NAMES: ParameterNames = {
  subject: '--subject',
  type: '--type',
  actor: '--actor',
  onBehalfOf: '--on-behalf-of',
  outcome: '--outcome',
  changeRequest: '--change-request',
  correlation: '--correlation',
  since: '--since',
  until: '--until',
  limit: '--limit',
  cursor: '--cursor',
  format: '--format',
};

interface AuditRecordView {
  sequence: number;
  time: string;
  action: string;
  subject: string;
  actor: string;
  outcome: { status: string; code?: string };
  correlationId: string;
}

/** `pchat audit list`: one page of records, newest first. */
export async function listAudit(context: Context, query: Query): Promise<ExitCode> {
  const answer = await context.api.call('GET', '/audit', query);
  if (answer.status !== 200) throw failureOf(answer, AUDIT_NAMES);
  const page = answer.body as { items: AuditRecordView[]; nextCursor: string | null };
  show(context.output, page, () => {
    const rows = table(page.items, [
      ['Sequence', (r: AuditRecordView) => r.sequence],
      ['Time', (r: AuditRecordView) => r.time],
      ['Action', (r: AuditRecordView) => r.action],
      ['Subject', (r: AuditRecordView) => r.subject],
      ['Outcome', (r: AuditRecordView) => (r.outcome.code ? `${r.outcome.status} (${r.outcome.code})` : r.outcome.status)],
      ['Actor', (r: AuditRecordView) => r.actor],
    ]);
    return page.nextCursor ? `${rows}\nmore: --cursor ${printable(page.nextCursor)}` : rows;
  });
  return ExitCode.done;
}

/**
 * `pchat audit export`: streams the whole filtered result into a file, never holding it in memory.
 * It is written beside the target and renamed into place when complete, so a broken transfer
 * leaves no half file under the name asked for.
 */
export async function exportAudit(context: Context, query: Query, file: string): Promise<ExitCode> {
  const { api, output } = context;
  const response = await api.send('GET', '/audit', query);
  if (response.status !== 200 || response.body === null) {
    const text = await response.text().catch(() => '');
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: the text itself is shown.
    }
    throw failureOf({ status: response.status, headers: response.headers, body }, AUDIT_NAMES);
  }
  const partial = `${file}.partial`;
  let bytes = 0;
  let lines = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      for (const byte of chunk) if (byte === 0x0a) lines++;
      output.progress(`exporting: ${lines} lines, ${(bytes / 1024).toFixed(1)} KiB`);
      done(null, chunk);
    },
  });
  try {
    await pipeline(
      Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>),
      count,
      createWriteStream(partial),
    );
    await rename(partial, file);
  } catch (error) {
    output.progress(undefined);
    await rm(partial, { force: true });
    if ((error as { code?: string }).code?.startsWith('E') && (error as { syscall?: string }).syscall)
      throw new CliExit(ExitCode.usage, [`--output cannot be written: ${(error as Error).message}`]);
    throw new CliExit(ExitCode.unavailable, [`the export broke off after ${bytes} bytes: ${String(error)}`]);
  }
  output.progress(undefined);
  const summary = { file, format: query.format, lines, bytes };
  show(output, summary, () => `wrote ${lines} lines (${bytes} bytes) to ${file}`);
  return ExitCode.done;
}

interface VerificationReportView {
  intact: boolean;
  recordsChecked: number;
  mode?: string;
  fullBecause?: string | null;
  firstBreak: { sequence: number; kind: string; detail: string } | null;
  checkpoints: { checked: number };
}

interface VerificationView {
  id: string;
  status: 'running' | 'succeeded' | 'failed';
  progress: { recordsChecked: number; recordsToCheck: number };
  result: VerificationReportView | null;
  error: { code: string; message: string } | null;
}

const POLL_MS = 1000;
const MAX_POLL_MS = 10_000;
/** Answers worth asking again (the operation is stored: a busy app is asked again as its Retry-After says). */
const TRANSIENT = new Set([429, 503]);
const count = (n: number) => n.toLocaleString('en');

/**
 * `pchat audit verify`: starts a verification (POST /api/audit/verifications; --full for a full one)
 * and waits for it with a progress line. 0 when the log is intact, 1 (where it first breaks printed)
 * when it is not, 3 when the verification failed or did not finish within --timeout.
 */
export async function verifyAudit(context: Context, options: { full?: boolean } = {}): Promise<ExitCode> {
  const started = await context.api.call('POST', '/audit/verifications', {}, { mode: options.full ? 'full' : 'incremental' });
  if (started.status !== 202) throw new CliExit(ExitCode.unavailable, problemLines(started));
  const operation = await awaitVerification(context, started.body as VerificationView, started);
  if (operation.status === 'failed' || !operation.result)
    throw new CliExit(ExitCode.unavailable, [
      `the verification ${operation.id} failed: ${printable(operation.error?.code ?? '')}: ${printable(operation.error?.message ?? '')}`,
    ]);
  const report = operation.result;
  const how = report.mode ? `${report.mode}: ` : '';
  show(context.output, operation, () =>
    report.intact
      ? `intact: ${how}${report.recordsChecked} records and ${report.checkpoints.checked} checkpoints checked`
      : `BROKEN: ${how}${report.recordsChecked} records checked`,
  );
  if (report.fullBecause) context.output.err(`full because ${printable(report.fullBecause)}`);
  if (report.intact) return ExitCode.done;
  const first = report.firstBreak;
  context.output.err(first ? `broken: ${printable(first.kind)} at sequence ${first.sequence}: ${printable(first.detail)}` : 'broken');
  return ExitCode.no;
}

/** Polls GET /api/audit/verifications/{id} until it is no longer running, drawing `verifying: n of m records`. */
async function awaitVerification(context: Context, first: VerificationView, firstAnswer: Answer): Promise<VerificationView> {
  const { api, output } = context;
  const deadline = Date.now() + context.timeoutMs;
  let current = first;
  let last = firstAnswer;
  while (current.status === 'running') {
    const pause = Math.min(retryAfterMs(last.headers) ?? POLL_MS, MAX_POLL_MS);
    if (Date.now() + pause > deadline) {
      output.progress(undefined);
      throw new CliExit(ExitCode.unavailable, [
        `the verification ${current.id} is still running after ${Math.round(context.timeoutMs / 1000)} s; it goes on: GET /api/audit/verifications/${current.id}`,
      ]);
    }
    output.progress(`verifying: ${count(current.progress.recordsChecked)} of ${count(current.progress.recordsToCheck)} records`);
    await new Promise((resolve) => setTimeout(resolve, pause));
    last = await api.call('GET', `/audit/verifications/${encodeURIComponent(current.id)}`);
    if (TRANSIENT.has(last.status)) continue;
    if (last.status !== 200) {
      output.progress(undefined);
      throw failureOf(last);
    }
    current = last.body as VerificationView;
  }
  output.progress(undefined);
  return current;
}
