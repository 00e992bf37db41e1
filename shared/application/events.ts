import type { AuditRecord } from '../domain/audit';

/** A CloudEvents 1.0 event in its structured JSON form, with our extensions. */
export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  dataschema?: string;
  /** The audit sequence number, zero-padded so it orders lexicographically (CloudEvents `sequence` extension). */
  sequence: string;
  correlationid: string;
  causationid?: string;
  data: AuditRecord;
}

/** The media type of a structured CloudEvent. */
export const CLOUD_EVENT_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';

/** The versioned event type of an audit action, e.g. `pchat.endpoint.created.v1`. */
export function eventTypeOf(action: string): string {
  return `pchat.${action}.v1`;
}

/** The event announcing one audit record; its id is the record's id, so re-publishing repeats it exactly. */
export function toCloudEvent(record: AuditRecord, source: string): CloudEvent {
  return {
    specversion: '1.0',
    id: record.id,
    source,
    type: eventTypeOf(record.action),
    subject: record.subject,
    time: record.time,
    datacontenttype: 'application/json',
    sequence: String(record.sequence).padStart(16, '0'),
    correlationid: record.correlationId,
    ...(record.causationId ? { causationid: record.causationId } : {}),
    data: record,
  };
}
