import type { AuditRecord } from '../domain/audit';
import type { TraceContext } from '../domain/traceContext';

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
  /** The change request's W3C trace (CloudEvents distributed-tracing extension), so one trace spans submit, apply and event. */
  traceparent?: string;
  tracestate?: string;
  data: AuditRecord;
}

/** The media type of a structured CloudEvent. */
export const CLOUD_EVENT_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';

/** The versioned event type of an audit action, e.g. `pchat.endpoint.created.v1`. */
export function eventTypeOf(action: string): string {
  return `pchat.${action}.v1`;
}

/**
 * The event announcing one audit record; its id is the record's id, so re-publishing repeats it
 * exactly (the outbox keeps the whole event, trace context included). The trace context rides
 * beside the record, never in it: audit records and their hashes do not change.
 */
export function toCloudEvent(record: AuditRecord, source: string, traceContext?: TraceContext): CloudEvent {
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
    ...traceContext,
    data: record,
  };
}
