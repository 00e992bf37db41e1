import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { AuditRecord } from '../shared/domain/audit';
import type { ChainBreak } from '../shared/domain/auditVerification';
import {
  ExportFormatError,
  ExportVerifier,
  FilteredMatcher,
  MAX_LINE_BYTES,
  parseCheckpointLine,
  parseExportLine,
  type CheckpointCopy,
  type ContiguousCursor,
  type ExportReport,
  type FilteredReport,
} from '../shared/domain/exportVerification';
import { parseJwkSet } from '../shared/domain/jwk';
import type { VerificationKey } from '../shared/domain/signingKeys';
import { CliExit, ExitCode } from './exit';
import { printable, show, type Output } from './output';

/**
 * `pchat audit verify --file`: checks an audit export on this machine, with no storage, no API and
 * no private key. The files are read here; every rule is in shared/domain/exportVerification.ts.
 */

/** What the command line names. */
export interface OfflineOptions {
  /** The export to check (with `against`: a filtered export). */
  file: string;
  /** Copies of the checkpoints: the API's, a witness's saved events. */
  checkpoints: string[];
  /** The JWK set the checkpoints' signatures are checked with. */
  keys?: string;
  /** A contiguous export the filtered `file` is checked against. */
  against?: string;
}

/** The report: the contiguous export's, plus the filtered file's when `against` was given. */
export interface OfflineReport extends ExportReport {
  file: string;
  against: string | null;
  filtered: FilteredReport | null;
}

/** A keys file is a small JSON document; a bigger one is not a keys file. */
const MAX_KEYS_FILE_BYTES = 1024 * 1024;

/** "cannot check" (exit 3), naming the file. */
function cannotCheck(file: string, reason: string): CliExit {
  return new CliExit(ExitCode.unavailable, [`cannot check: ${printable(file)}: ${reason}`]);
}

/** A file's error as a cannot-check naming the file and, for a bad line, its number. */
function asCannotCheck(file: string, error: unknown): unknown {
  if (error instanceof ExportFormatError) return cannotCheck(file, error.message);
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('E')) return cannotCheck(file, `cannot be read (${code})`);
  return error;
}

/**
 * The file's lines, numbered from 1, decoded as strict UTF-8, in constant memory: a line longer
 * than MAX_LINE_BYTES is refused as soon as it grows past the bound, never buffered whole. Blank
 * lines are skipped.
 */
export async function* fileLines(file: string): AsyncIterable<{ text: string; line: number }> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let parts: Buffer[] = [];
  let size = 0;
  let line = 1;
  const finish = (): string => {
    const bytes = Buffer.concat(parts, size);
    parts = [];
    size = 0;
    try {
      return decoder.decode(bytes);
    } catch {
      throw new ExportFormatError(line, 'is not UTF-8');
    }
  };
  for await (const chunk of createReadStream(file, { highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let end = chunk.indexOf(0x0a, start); end !== -1; end = chunk.indexOf(0x0a, start)) {
      size += end - start;
      if (size > MAX_LINE_BYTES) throw new ExportFormatError(line, `is longer than ${MAX_LINE_BYTES} bytes`);
      parts.push(chunk.subarray(start, end));
      const text = finish();
      if (text.trim() !== '') yield { text, line };
      line++;
      start = end + 1;
    }
    size += chunk.length - start;
    if (size > MAX_LINE_BYTES) throw new ExportFormatError(line, `is longer than ${MAX_LINE_BYTES} bytes`);
    parts.push(chunk.subarray(start));
  }
  const text = finish();
  if (text.trim() !== '') yield { text, line };
}

/** The records of an export, with their line numbers; its export.truncated line (the last) is reported through `truncated`. */
async function* exportRecords(file: string, truncated: () => void): AsyncIterable<{ record: AuditRecord; line: number }> {
  let ended = false;
  for await (const { text, line } of fileLines(file)) {
    if (ended) throw new ExportFormatError(line, 'follows the export.truncated line, which ends an export');
    const parsed = parseExportLine(text, line);
    if (parsed.kind === 'truncated') {
      ended = true;
      truncated();
      continue;
    }
    yield { record: parsed.record, line };
  }
}

async function readKeys(file: string): Promise<VerificationKey[]> {
  try {
    if ((await stat(file)).size > MAX_KEYS_FILE_BYTES)
      throw cannotCheck(file, `is larger than ${MAX_KEYS_FILE_BYTES} bytes: not a keys file`);
    return parseJwkSet(await readFile(file, 'utf8'));
  } catch (error) {
    if (error instanceof TypeError) throw cannotCheck(file, `is not a JWK set: ${error.message}`);
    throw asCannotCheck(file, error);
  }
}

async function readCheckpoints(file: string): Promise<CheckpointCopy> {
  const checkpoints = [];
  try {
    for await (const { text, line } of fileLines(file)) checkpoints.push(parseCheckpointLine(text, line));
  } catch (error) {
    throw asCannotCheck(file, error);
  }
  return { name: file, checkpoints };
}

/** Verifies a contiguous export; throws a CliExit (cannot check) naming the file and line at fault. */
async function verifyExport(file: string, verifier: ExportVerifier): Promise<ExportReport> {
  try {
    for await (const { record } of exportRecords(file, () => verifier.markTruncated())) verifier.add(record);
  } catch (error) {
    throw asCannotCheck(file, error);
  }
  const report = verifier.finish();
  if (report.recordsChecked === 0) throw cannotCheck(file, 'holds no audit records: not an export (GET /api/audit?format=ndjson)');
  return report;
}

/** Matches the filtered export against the (already verified) contiguous one, reading both once more, side by side. */
async function matchFiltered(filtered: string, contiguous: string, order: ExportReport['order']): Promise<FilteredReport> {
  const source = exportRecords(contiguous, () => undefined)[Symbol.asyncIterator]();
  const cursor: ContiguousCursor & { current: AuditRecord | undefined } = {
    current: undefined,
    async advance() {
      const next = await source.next();
      this.current = next.done ? undefined : next.value.record;
    },
  };
  await cursor.advance();
  const matcher = new FilteredMatcher(order);
  try {
    for await (const { record, line } of exportRecords(filtered, () => undefined)) await matcher.match(record, line, cursor);
  } catch (error) {
    throw asCannotCheck(filtered, error);
  } finally {
    await source.return?.();
  }
  const report = matcher.finish();
  if (report.recordsChecked === 0) throw cannotCheck(filtered, 'holds no audit records: not an export (GET /api/audit?format=ndjson)');
  return report;
}

/** Checks the files; throws a CliExit (exit 3) when they cannot be checked. */
export async function checkFiles(options: OfflineOptions): Promise<OfflineReport> {
  const keys = options.keys !== undefined ? await readKeys(options.keys) : undefined;
  const copies: CheckpointCopy[] = [];
  for (const file of options.checkpoints) copies.push(await readCheckpoints(file));
  const contiguous = options.against ?? options.file;
  const report = await verifyExport(contiguous, new ExportVerifier({ copies, keys }));
  const filtered = options.against !== undefined ? await matchFiltered(options.file, options.against, report.order) : null;
  const breaks: ChainBreak[] = [...report.breaks, ...(filtered?.breaks ?? [])].sort((a, b) => a.sequence - b.sequence);
  return {
    ...report,
    file: options.file,
    against: options.against ?? null,
    filtered,
    intact: breaks.length === 0,
    firstBreak: breaks[0] ?? null,
    breaks,
  };
}

/** The readable summary. */
export function describe(report: OfflineReport): string {
  const lines: string[] = [];
  const range = report.range ? `records ${report.range.oldest}-${report.range.newest}` : 'no records';
  const extent = report.wholeLog
    ? 'the whole log from record 1'
    : report.oldestLink === 'checkpoint'
      ? `a window: record ${report.range?.oldest}'s link checked against the checkpoint before it`
      : `a window: record ${report.range?.oldest}'s link to the record before it cannot be checked`;
  const contiguous = report.against ?? report.file;
  lines.push(
    `${report.intact ? 'intact' : 'BROKEN'}: ${printable(contiguous)}: ${range} (${extent}), ${report.recordsChecked} records, ${report.order}`,
  );
  if (report.truncated) lines.push('the export stopped at its limit (export.truncated): older records were not exported');
  if (report.filtered)
    lines.push(`${printable(report.file)}: ${report.filtered.recordsChecked} filtered records checked against ${printable(contiguous)}`);
  const c = report.checkpoints;
  const keys = c.byKey.map(({ keyId, checkpoints }) => `${keyId === null ? 'v1, before key ids' : printable(keyId)}: ${checkpoints}`);
  lines.push(
    c.copies.length === 0
      ? 'checkpoints: none given: nothing signed vouches for these records'
      : `checkpoints: ${c.checked} from ${c.copies.length} cop${c.copies.length === 1 ? 'y' : 'ies'}, ${c.inRange} in range; signatures ${c.signatures}${keys.length > 0 ? ` (${keys.join(', ')})` : ''}`,
  );
  if (report.notCovered)
    lines.push(`not covered by any checkpoint: records ${report.notCovered.from}-${report.notCovered.to} (chained, not yet signed)`);
  return lines.join('\n');
}

/** The exit code of a report, and the line that says why on stderr. */
export function verdict(report: OfflineReport): { exitCode: ExitCode; reason: string | undefined } {
  const first = report.firstBreak;
  if (first) return { exitCode: ExitCode.no, reason: `broken: ${first.kind} at sequence ${first.sequence}: ${printable(first.detail)}` };
  if (report.checkpoints.copies.length > 0 && report.checkpoints.signatures === 'not checked')
    return {
      exitCode: ExitCode.unavailable,
      reason: "cannot check: the checkpoints' signatures were NOT checked (give --keys signing-keys.json): anyone could have written them",
    };
  return { exitCode: ExitCode.done, reason: undefined };
}

/** `pchat audit verify --file ...`: exit 0 intact, 1 broken (the first break on stderr), 3 cannot check. */
export async function verifyOffline(output: Output, options: OfflineOptions): Promise<ExitCode> {
  const report = await checkFiles(options);
  show(output, report, () => describe(report));
  const { exitCode, reason } = verdict(report);
  if (reason) output.err(`pchat: ${reason}`);
  return exitCode;
}
