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

/** The filters that have an index, most selective first, each with its key prefix and its column clause. */
const INDEXED: Array<{ given(query: AuditQuery): string | undefined; prefix(value: string): string; column?(value: string): string }> = [
  // No column clause for the subject: its index key holds it in canonical form (rowKeys.auditBySubject), which the stored column need not.
  { given: (q) => q.subject, prefix: (v) => rowKeys.auditSubjectPrefix(v) },
  {
    given: (q) => q.changeRequestId,
    prefix: (v) => rowKeys.auditIndexPrefix('changeRequest', v),
    column: (v) => odata`changeRequestId eq ${v}`,
  },
  { given: (q) => q.correlationId, prefix: (v) => rowKeys.auditIndexPrefix('correlation', v), column: (v) => odata`correlationId eq ${v}` },
  { given: (q) => q.actor, prefix: (v) => rowKeys.auditIndexPrefix('actor', v), column: (v) => odata`actor eq ${v}` },
  { given: (q) => q.onBehalfOf, prefix: (v) => rowKeys.auditIndexPrefix('onBehalfOf', v), column: (v) => odata`onBehalfOf eq ${v}` },
  { given: (q) => q.action, prefix: (v) => rowKeys.auditIndexPrefix('type', v), column: (v) => odata`action eq ${v}` },
  { given: (q) => q.outcome, prefix: (v) => rowKeys.auditIndexPrefix('outcome', v), column: (v) => odata`outcome eq ${v}` },
];

/**
 * The index a query reads (the most selective filter given, or the log itself) and, as OData clauses
 * on the rows' columns, the other filters for the service to apply. The index's own filter needs no
 * clause: its key already matches, even where the value is hashed into the key (rowKeys.keyPart).
 */
function indexAndFilter(query: AuditQuery): { prefix: string; filter: string | undefined } {
  const given = INDEXED.flatMap((index) => {
    const value = index.given(query);
    return value === undefined ? [] : [{ index, value }];
  });
  const [chosen, ...others] = given;
  const clauses = others.flatMap(({ index, value }) => (index.column ? [index.column(value)] : []));
  return { prefix: chosen ? chosen.index.prefix(chosen.value) : rowKeys.auditPrefix, filter: clauses.join(' and ') || undefined };
}

/**
 * Audit queries on Azure Table Storage. A query reads one index (the most selective filter given),
 * narrowed to the sequence range of its time window, with the other filters applied by the service:
 * the rows read are the ones returned, plus a search for the window's ends in a fixed number of rounds
 * (SequenceWindows); never the whole log.
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
    const { prefix, filter } = indexAndFilter(query);
    if (query.since === undefined && query.until === undefined) return { prefix, filter };
    const window = await this.windows.of(query.since, query.until);
    if (window === undefined) return undefined;
    // Keys hold inverted sequences: the newest end of the window is the lower key.
    return { prefix, from: rowKeys.auditAt(prefix, window.last), to: rowKeys.auditAt(prefix, window.first), filter };
  }
}
