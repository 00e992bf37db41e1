import type { ServiceDependencies } from './dependencies';
import { CLOUD_EVENT_CONTENT_TYPE, type CloudEvent } from './events';
import { Destination, type OutgoingMessage } from './ports/messageBus';

/** What publishing events needs. */
export type PublishDependencies = Pick<ServiceDependencies, 'outbox' | 'bus' | 'log'>;

/** The message carrying one CloudEvent: structured JSON, message id = event id, routing properties set. */
export function eventMessage(event: CloudEvent): OutgoingMessage {
  return {
    messageId: event.id,
    body: event,
    contentType: CLOUD_EVENT_CONTENT_TYPE,
    subject: event.subject,
    correlationId: event.correlationid,
    // The AMQP binding's attribute properties (Service Bus routes and filters on them), extensions included.
    properties: {
      'cloudEvents:specversion': event.specversion,
      'cloudEvents:id': event.id,
      'cloudEvents:source': event.source,
      'cloudEvents:type': event.type,
      'cloudEvents:subject': event.subject,
      'cloudEvents:time': event.time,
      'cloudEvents:datacontenttype': event.datacontenttype,
      'cloudEvents:sequence': event.sequence,
      'cloudEvents:correlationid': event.correlationid,
      ...(event.causationid ? { 'cloudEvents:causationid': event.causationid } : {}),
      ...(event.traceparent ? { 'cloudEvents:traceparent': event.traceparent } : {}),
      ...(event.tracestate ? { 'cloudEvents:tracestate': event.tracestate } : {}),
    },
  };
}

/**
 * Publishes committed events in order and drops each from the outbox once it is out (its row goes
 * with the next commit, see Outbox.markPublishedLater). A failure leaves the rest in the outbox,
 * which a later re-drive publishes with the same event ids.
 */
export async function publishEvents(deps: PublishDependencies, events: CloudEvent[]): Promise<number> {
  let published = 0;
  for (const event of events) {
    try {
      await deps.bus.send(Destination.auditEvents, eventMessage(event));
      deps.outbox.markPublishedLater(event);
      published++;
    } catch (error) {
      deps.log.warn('event left in the outbox for a re-drive', { eventId: event.id, error: String(error) });
      break;
    }
  }
  return published;
}

/**
 * Publishes what the outbox still holds (events whose publishing was interrupted), oldest first.
 * With `committedBefore`, younger events are left to the worker that committed them.
 */
export async function publishPendingEvents(
  deps: PublishDependencies,
  options: { limit?: number; committedBefore?: Date } = {},
): Promise<number> {
  const pending = await deps.outbox.pending(options.limit ?? 100);
  const cutoff = options.committedBefore?.toISOString();
  return publishEvents(deps, cutoff === undefined ? pending : pending.filter((event) => event.time < cutoff));
}
