import { TimelineCounter, type AuditTimeline } from '../../domain/auditTimeline';
import type { AuditQuery, AuditSearch } from '../ports/auditSearch';

/** What counting a timeline needs: the audit search, and how many records one request may count. */
export interface TimelineDependencies {
  auditSearch: Pick<AuditSearch, 'export'>;
  limits: { auditExportRecords: number };
}

/**
 * Applied, rejected and failed records per day of `timeZone` for a filtered query. Counted on the
 * server, streaming the query's records (the same index and window an export reads), so the answer
 * stays a few hundred bytes however many records match. At most the export bound is counted: past it
 * the timeline says so (complete: false) and from when it counted, rather than running unbounded.
 */
export async function auditTimeline(deps: TimelineDependencies, query: AuditQuery, timeZone: string): Promise<AuditTimeline> {
  const counter = new TimelineCounter(timeZone);
  for await (const record of deps.auditSearch.export(query)) {
    if (counter.recordsCounted >= deps.limits.auditExportRecords) return counter.result(false);
    counter.add(record.time, record.outcome);
  }
  return counter.result(true);
}
