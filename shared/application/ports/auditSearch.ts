import type { AuditAction, AuditRecord } from '../../domain/audit';
import type { Page } from './directoryQueries';

/** Which records to read, newest first. Each filter but the time window has an index; the window maps to a sequence range. */
export interface AuditQuery {
  subject?: string;
  action?: AuditAction;
  actor?: string;
  /** Whom a queue message's actor claimed to act for (the record's onBehalfOf). */
  onBehalfOf?: string;
  outcome?: 'applied' | 'rejected' | 'failed';
  changeRequestId?: string;
  correlationId?: string;
  /** RFC 3339, inclusive. */
  since?: string;
  /** RFC 3339, inclusive. */
  until?: string;
}

/** One page of a query: at most `limit` records after `cursor`. */
export interface AuditPageRequest extends AuditQuery {
  limit: number;
  cursor?: string;
}

/** Reading the audit log by what auditors ask: a page of records, or every match streamed for export. */
export interface AuditSearch {
  /** A page of matching records, newest first; throws ValidationError on a cursor this service did not issue. */
  page(request: AuditPageRequest): Promise<Page<AuditRecord>>;
  /** Every matching record, newest first, streamed (never held in memory). */
  export(query: AuditQuery): AsyncIterable<AuditRecord>;
}
