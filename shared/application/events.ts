import type { AuditRecord } from '../domain/audit';
import { signedCheckpoint, type AuditCheckpoint } from '../domain/auditVerification';
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
  /** An audit record, or (type CHECKPOINT_EVENT_TYPE) a signed checkpoint: both carry the sequence the outbox keys on. */
  data: AuditRecord | AuditCheckpoint;
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

/** The type of the event announcing a signed checkpoint, so every subscriber keeps a copy (a witness). */
export const CHECKPOINT_EVENT_TYPE = 'pchat.audit.checkpoint.v1';

/** The subject of every checkpoint event. */
export const CHECKPOINT_EVENT_SUBJECT = 'audit/checkpoints';

/** Whether an event announces a checkpoint (its data is an AuditCheckpoint) rather than an audit record. */
export function isCheckpointEvent(event: CloudEvent): event is CloudEvent & { data: AuditCheckpoint } {
  return event.type === CHECKPOINT_EVENT_TYPE;
}

/**
 * The event announcing a signed checkpoint. Its id derives from the sequence, so a re-publish (or a
 * second timer racing the first) repeats it exactly; its data is the checkpoint's signed members
 * only, so a subscriber's copy verifies as it is.
 */
export function toCheckpointEvent(checkpoint: AuditCheckpoint, source: string): CloudEvent {
  const id = `audit-checkpoint-${checkpoint.sequence}`;
  return {
    specversion: '1.0',
    id,
    source,
    type: CHECKPOINT_EVENT_TYPE,
    subject: CHECKPOINT_EVENT_SUBJECT,
    time: checkpoint.time,
    datacontenttype: 'application/json',
    sequence: String(checkpoint.sequence).padStart(16, '0'),
    correlationid: id,
    data: signedCheckpoint(checkpoint),
  };
}
