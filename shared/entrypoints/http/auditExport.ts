import type { AuditRecord } from '../../domain/audit';

/** The export formats of GET /api/audit. */
export type ExportFormat = 'ndjson' | 'csv';

export const EXPORT_MEDIA_TYPES: Record<ExportFormat, string> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

const CSV_COLUMNS = [
  'sequence',
  'time',
  'actor',
  'action',
  'subject',
  'changeRequestId',
  'correlationId',
  'causationId',
  'outcome',
  'code',
  'message',
  'before',
  'after',
  'id',
  'previousHash',
  'hash',
] as const;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. A field that a
 * spreadsheet would run as a formula (= + - @, tab, CR) gets a leading apostrophe: auditors open
 * these files in Excel, and a subject or display name is text someone else chose.
 */
function csvField(value: unknown): string {
  let text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvRow(record: AuditRecord): string {
  const outcome = record.outcome;
  const values: Record<(typeof CSV_COLUMNS)[number], unknown> = {
    sequence: record.sequence,
    time: record.time,
    actor: record.actor,
    action: record.action,
    subject: record.subject,
    changeRequestId: record.changeRequestId,
    correlationId: record.correlationId,
    causationId: record.causationId,
    outcome: outcome.status,
    code: outcome.status === 'applied' ? null : outcome.code,
    message: outcome.status === 'applied' ? null : outcome.message,
    before: record.before,
    after: record.after,
    id: record.id,
    previousHash: record.previousHash,
    hash: record.hash,
  };
  return `${CSV_COLUMNS.map((column) => csvField(values[column])).join(',')}\r\n`;
}

/** The action of the line that ends an export cut at its limit: never an audit record's action. */
export const TRUNCATED_ACTION = 'export.truncated';

/**
 * The last line of an export that reached its limit: in the record's own shape (CSV: the action
 * and message columns), saying how to export the rest. `until` is inclusive, so the next export
 * starts with the records of that instant again; the sequence numbers tell the repeats.
 */
function truncationLine(format: ExportFormat, limit: number, last: AuditRecord): string {
  const message = `the export stops at its limit of ${limit} records; export the rest with until=${last.time}`;
  if (format === 'ndjson') return `${JSON.stringify({ action: TRUNCATED_ACTION, limit, message, until: last.time })}\n`;
  return `${CSV_COLUMNS.map((column) => csvField(column === 'action' ? TRUNCATED_ACTION : column === 'message' ? message : null)).join(',')}\r\n`;
}

/**
 * The records as NDJSON (one record per line) or CSV (a header, then one row per record), encoded
 * as they come, at most `limit` of them: past it the export ends with a truncation line and reads
 * no further (an export of a huge log cannot hold a worker and the storage partition for hours).
 */
export async function* exportLines(records: AsyncIterable<AuditRecord>, format: ExportFormat, limit: number): AsyncIterable<Uint8Array> {
  if (format === 'csv') yield Buffer.from(`${CSV_COLUMNS.join(',')}\r\n`, 'utf8');
  let exported = 0;
  let last: AuditRecord | undefined;
  for await (const record of records) {
    if (exported === limit && last) {
      yield Buffer.from(truncationLine(format, limit, last), 'utf8');
      return;
    }
    yield Buffer.from(format === 'csv' ? csvRow(record) : `${JSON.stringify(record)}\n`, 'utf8');
    exported++;
    last = record;
  }
}
