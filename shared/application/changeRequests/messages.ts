import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  CreateEndpointRequestSchema,
  DeleteEndpointRequestSchema,
  type ChangeRequestBody,
  type ValidChangeRequest,
} from '../../domain/changeRequest';
import { CORRELATION_ID_PATTERN, hasControlCharacter, isWellFormed } from '../../domain/text';
import { isTracestate, TRACEPARENT_PATTERN } from '../../domain/traceContext';
import { Destination, type OutgoingMessage } from '../ports/messageBus';

/** The current version of the endpoint change message. */
export const MESSAGE_SCHEMA_VERSION = 1;

/** A message's correlation id: the rule of the HTTP X-Correlation-Id header (it is indexed and logged like one). */
export const MessageCorrelationIdSchema = z
  .string({ error: 'must be a string' })
  .regex(CORRELATION_ID_PATTERN, 'must be 1-128 letters, digits, or . _ : -');

/**
 * Whom a message says it acts for: 1-256 characters of well-formed Unicode without control
 * characters. It is a claim (the queue is what authenticates the sender), recorded as `onBehalfOf`.
 */
export const MessageActorSchema = z
  .string({ error: 'must be a string' })
  .min(1, 'must not be empty')
  .max(256, 'must be at most 256 characters')
  .refine(isWellFormed, 'must be well-formed Unicode (no lone surrogate)')
  .refine((value) => !hasControlCharacter(value), 'must not contain control characters or line separators');

/** The envelope fields a queue message may carry beside the change request itself. */
const envelope = {
  schemaVersion: z.literal(MESSAGE_SCHEMA_VERSION, { error: `must be ${MESSAGE_SCHEMA_VERSION}` }),
  /** Set by the HTTP submission; automation that enqueues directly leaves it out and gets one derived from the message id. */
  changeRequestId: z.uuid({ error: 'must be a UUID' }).optional(),
  correlationId: MessageCorrelationIdSchema.optional(),
  /** Whom the sender acts for (a claim); automation names itself here. */
  actor: MessageActorSchema.optional(),
  /**
   * The W3C trace the request belongs to. Tracing is best effort: a malformed value is dropped
   * (`catch`), never a reason to refuse the change, and the request gets a new trace instead.
   */
  traceparent: z.string().regex(TRACEPARENT_PATTERN).optional().catch(undefined),
  tracestate: z.string().refine(isTracestate).optional().catch(undefined),
};

/**
 * A message on the endpoint-create or endpoint-delete queue: a change request (the same fields as
 * POST /api/change-requests) in an envelope. Automation may enqueue these directly.
 *
 * @example {"schemaVersion":1,"operation":"create","sipAddress":"sip:chat@contoso.com","poolFqdn":"pcpool.contoso.com","actor":"provisioning-bot"}
 */
export const EndpointChangeMessageSchema = z.discriminatedUnion(
  'operation',
  [CreateEndpointRequestSchema.extend(envelope), DeleteEndpointRequestSchema.extend(envelope)],
  { error: 'must be "create" or "delete"' },
);
export type EndpointChangeMessage = z.infer<typeof EndpointChangeMessageSchema>;

/** The queue each operation travels on. */
export function destinationFor(operation: ChangeRequestBody['operation']): Destination {
  return operation === 'create' ? Destination.endpointCreate : Destination.endpointDelete;
}

/**
 * The queue message for an accepted change request. Its first send's message id is the change
 * request id; a re-drive's `send` (2, 3, …) gets its own id, so Service Bus duplicate detection does
 * not drop it as a repeat of a send that never arrived. The body names the request either way.
 */
export function changeRequestMessage(changeRequest: ValidChangeRequest, send = 1): OutgoingMessage {
  const body: EndpointChangeMessage = {
    schemaVersion: MESSAGE_SCHEMA_VERSION,
    ...changeRequest.request,
    changeRequestId: changeRequest.id,
    correlationId: changeRequest.correlationId,
    actor: changeRequest.actor,
    // The request's own trace, on its first send and on every re-send alike.
    ...changeRequest.traceContext,
  };
  return {
    messageId: send === 1 ? changeRequest.id : `${changeRequest.id}.${send}`,
    body,
    contentType: 'application/json',
    subject: changeRequest.request.sipAddress,
    correlationId: changeRequest.correlationId,
    sessionId: changeRequest.request.sipAddress,
    properties: { operation: changeRequest.request.operation, schemaVersion: MESSAGE_SCHEMA_VERSION },
  };
}

/**
 * The change request id for a message that arrived without one: a UUID derived from the queue and
 * the transport's message id, so every redelivery of that message maps to the same request.
 */
export function changeRequestIdForMessage(queue: string, messageId: string): string {
  const hex = createHash('sha256').update(`${queue}\n${messageId}`).digest('hex');
  // Shaped as a version-8 (custom) UUID per RFC 9562.
  const variant = ((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}
