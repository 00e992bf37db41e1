import { odata } from '@azure/data-tables';
import type { AuditRecord } from '../../domain/audit';
import type { AuditPageRequest, AuditQuery, AuditSearch } from '../../application/ports/auditSearch';
import type { Page } from '../../application/ports/directoryQueries';
import { decodeCursor } from './cursors';
import { pageOf } from './pages';
import { parse, type PartitionTable, type ScanOptions } from './partitionTable';
import { rowKeys } from './rowKeys';
import { SequenceWindows } from './sequenceWindows';

/** Where a query's records lie: one key prefix (an index, or the log), a key range within it, and service-side filters. */
interface AuditRange extends Pick<ScanOptions, 'from' | 'to' | 'filter'> {
  prefix: string;
}

/** The index a query reads: the most selective filter given, or the log itself. */
function indexPrefix(query: AuditQuery): string {
  if (query.subject !== undefined) return rowKeys.auditSubjectPrefix(query.subject);
  if (query.changeRequestId !== undefined) return rowKeys.auditIndexPrefix('changeRequest', query.changeRequestId);
  if (query.correlationId !== undefined) return rowKeys.auditIndexPrefix('correlation', query.correlationId);
  if (query.actor !== undefined) return rowKeys.auditIndexPrefix('actor', query.actor);
  if (query.action !== undefined) return rowKeys.auditIndexPrefix('type', query.action);
  if (query.outcome !== undefined) return rowKeys.auditIndexPrefix('outcome', query.outcome);
  return rowKeys.auditPrefix;
}

/** Every filter as an OData clause on the rows' columns, so the service applies those the index does not. */
function columnFilter(query: AuditQuery): string | undefined {
  const clauses = [
    query.subject !== undefined ? odata`subject eq ${query.subject}` : undefined,
    query.changeRequestId !== undefined ? odata`changeRequestId eq ${query.changeRequestId}` : undefined,
    query.correlationId !== undefined ? odata`correlationId eq ${query.correlationId}` : undefined,
    query.actor !== undefined ? odata`actor eq ${query.actor}` : undefined,
    query.action !== undefined ? odata`action eq ${query.action}` : undefined,
    query.outcome !== undefined ? odata`outcome eq ${query.outcome}` : undefined,
  ].filter((clause): clause is string => clause !== undefined);
  return clauses.join(' and ') || undefined;
}

/**
 * Audit queries on Azure Table Storage. A query reads one index (the most selective filter given),
 * narrowed to the sequence range of its time window, with the other filters applied by the service:
 * the rows read are the ones returned, plus a binary search for the window's ends; never the whole log.
 */
export class TableAuditSearch implements AuditSearch {
  private readonly windows: SequenceWindows;

  constructor(private readonly table: PartitionTable) {
    this.windows = new SequenceWindows(table);
  }

  async page(request: AuditPageRequest): Promise<Page<AuditRecord>> {
    const range = await this.rangeOf(request);
    if (range === undefined) return { items: [], nextCursor: null };
    const after = decodeCursor(request.cursor, range.prefix);
    return pageOf(this.table.rows(range.prefix, { ...range, after, pageSize: request.limit + 1 }), request.limit, () => true);
  }

  async *export(query: AuditQuery): AsyncIterable<AuditRecord> {
    const range = await this.rangeOf(query);
    if (range === undefined) return;
    for await (const row of this.table.rows(range.prefix, range)) yield parse<AuditRecord>(row) as AuditRecord;
  }

  /** The query's range; undefined when its time window holds no record. */
  private async rangeOf(query: AuditQuery): Promise<AuditRange | undefined> {
    const prefix = indexPrefix(query);
    const filter = columnFilter(query);
    if (query.since === undefined && query.until === undefined) return { prefix, filter };
    const window = await this.windows.of(query.since, query.until);
    if (window === undefined) return undefined;
    // Keys hold inverted sequences: the newest end of the window is the lower key.
    return { prefix, from: rowKeys.auditAt(prefix, window.last), to: rowKeys.auditAt(prefix, window.first), filter };
  }
}
