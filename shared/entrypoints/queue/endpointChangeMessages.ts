import { z } from 'zod';
import { FailureCode, RejectionCode } from '../../domain/codes';
import type { FieldError } from '../../domain/errors';
import { traceContextOf, traceIdOf, type TraceContext } from '../../domain/traceContext';
import { SipAddressSchema } from '../../domain/names';
import { applyChangeRequest, type ApplyDependencies, type QueuedChangeRequest } from '../../application/changeRequests/applyChangeRequest';
import { failChangeRequest } from '../../application/changeRequests/failChangeRequest';
import { changeRequestIdForMessage, EndpointChangeMessageSchema, MessageActorSchema } from '../../application/changeRequests/messages';
import { recordInvalidMessage } from '../../application/changeRequests/recordInvalidMessage';
import type { ServiceDependencies } from '../../application/dependencies';
import { Destination } from '../../application/ports/messageBus';
import type { Logger } from '../../application/ports/system';
import { fieldErrors } from '../fieldErrors';

/** What handling a change-request message needs. */
export type MessageDependencies = ApplyDependencies & Pick<ServiceDependencies, 'delivery'>;

/** What the trigger tells us about the message besides its body. */
export interface MessageMetadata {
  /** The transport's message id (stable across redeliveries). */
  messageId: string;
  queueName: string;
  /** Which delivery of the message this is, from 1 (Storage dequeueCount, Service Bus deliveryCount). */
  deliveryCount: number;
}

/** What a queue trigger hands over besides the body: the invocation and the transport's metadata. */
export interface QueueTrigger {
  invocationId: string;
  /** The function's name, for the log (the Functions InvocationContext has it). */
  functionName?: string;
  triggerMetadata?: Record<string, unknown>;
}

/** How a queue message was settled. */
export type MessageOutcome =
  | { status: 'applied' | 'rejected' | 'failed' | 'canceled' | 'accepted'; changeRequestId: string }
  | { status: 'dead-lettered'; changeRequestId: string; errors: FieldError[] };

/** The operations, each on its own queue. */
export type Operation = 'create' | 'delete';

/** The hints an invalid message may still give for its record: used only when each is valid on its own. */
const SIP_HINT = z.object({ sipAddress: SipAddressSchema });
const ID_HINT = z.object({ changeRequestId: z.uuid() });
const ACTOR_HINT = z.object({ actor: MessageActorSchema });
const TRACE_HINT = z.object({ traceparent: z.string(), tracestate: z.string().optional() });

/** A logger that names the request on every line: its id, correlation id, the principal (the queue) and trace. */
function requestLog(
  log: Logger,
  request: { changeRequestId: string; correlationId: string; actor: string; traceContext?: TraceContext },
): Logger {
  return log.with({
    changeRequestId: request.changeRequestId,
    correlationId: request.correlationId,
    principal: request.actor,
    ...(request.traceContext ? { traceId: traceIdOf(request.traceContext) } : {}),
  });
}

/** Why a message body is not a change request before its fields are even looked at (pointer `#`). */
const bodyError = (detail: string): FieldError[] => [{ pointer: '#', detail, location: 'message' }];

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** JSON text, or undefined when the text is not JSON. */
function parseJson(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

/**
 * The bytes a strict base64 text spells (RFC 4648 alphabet, padded to a multiple of 4), or undefined.
 * Node's decoder skips characters outside the alphabet, so the text must also be exactly what
 * encoding those bytes gives back: that refuses stray characters, missing or extra padding, and
 * non-zero bits in the last character.
 */
function strictBase64(text: string): Buffer | undefined {
  if (text.length === 0) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/**
 * A message's text as a value: JSON text as is; otherwise strict base64 of UTF-8 JSON text (what
 * our own Storage-queue producer sends). host.json sets `messageEncoding: none`, so the Functions
 * host hands over every message unchanged (JSON already parsed) and an undecodable one reaches us,
 * to be recorded and dead-lettered, instead of going to the poison queue with no trace.
 */
function decodeText(text: string): { value: unknown; errors: FieldError[] } {
  const json = parseJson(text);
  if (json) return { value: json.value, errors: [] };
  const bytes = strictBase64(text);
  if (!bytes) return { value: text, errors: bodyError('the message must be JSON text, or base64 (padded, RFC 4648) of UTF-8 JSON text') };
  let decoded: string;
  try {
    decoded = UTF8.decode(bytes);
  } catch {
    return { value: text, errors: bodyError('the message is base64, but the bytes it encodes are not valid UTF-8') };
  }
  const inner = parseJson(decoded);
  if (!inner) return { value: decoded, errors: bodyError('the message is base64 of UTF-8 text, but that text is not JSON') };
  return { value: inner.value, errors: [] };
}

/** Queue bodies arrive as parsed JSON (the host parses JSON text), a string, or bytes, depending on trigger and encoding. */
function decode(body: unknown): { value: unknown; errors: FieldError[] } {
  if (typeof body === 'string') return decodeText(body);
  if (Buffer.isBuffer(body) || body instanceof Uint8Array) {
    try {
      return decodeText(UTF8.decode(body));
    } catch {
      return { value: undefined, errors: bodyError('the message bytes are not valid UTF-8') };
    }
  }
  return { value: body, errors: [] };
}

/** The identity a queue gives its senders: the only actor a message can prove. */
const queueActor = (meta: MessageMetadata) => `queue:${meta.queueName}`;

/** The change request a valid message carries, or the errors that make it invalid. */
function parseMessage(
  operation: Operation,
  value: unknown,
  meta: MessageMetadata,
): { command: QueuedChangeRequest } | { errors: FieldError[] } {
  const parsed = EndpointChangeMessageSchema.safeParse(value);
  if (!parsed.success) return { errors: fieldErrors(parsed.error, 'message') };
  if (parsed.data.operation !== operation) {
    return {
      errors: [{ pointer: '#/operation', detail: `operation must be "${operation}" on the ${meta.queueName} queue`, location: 'message' }],
    };
  }
  const {
    schemaVersion: _version,
    changeRequestId: givenId,
    correlationId,
    actor: claimed,
    traceparent,
    tracestate,
    ...request
  } = parsed.data;
  const changeRequestId = givenId ?? changeRequestIdForMessage(meta.queueName, meta.messageId);
  const traceContext = traceContextOf(traceparent, tracestate);
  return {
    command: {
      changeRequestId,
      request,
      // Whoever may send to the queue is authenticated by it; the message's own `actor` is only a claim.
      actor: queueActor(meta),
      ...(claimed === undefined ? {} : { onBehalfOf: claimed }),
      correlationId: correlationId ?? changeRequestId,
      ...(traceContext === undefined ? {} : { traceContext }),
      channel: 'queue',
      requestNamed: givenId !== undefined,
    },
  };
}

/**
 * The last delivery failed too: the transport now sets the message aside (poison queue, dead-letter
 * queue), so the request is settled as failed, with the reason, and audited. If even that cannot be
 * written, the re-driver finds the request still waiting and carries on from there.
 */
async function failOnLastDelivery(
  deps: MessageDependencies,
  command: QueuedChangeRequest,
  meta: MessageMetadata,
  error: unknown,
): Promise<void> {
  const reason = {
    code: FailureCode.processingFailed,
    message: `processing failed on all ${meta.deliveryCount} deliveries of the message, which was set aside for operators (${meta.queueName} poison / dead-letter queue)`,
  };
  // deps.log names the request already (requestLog).
  deps.log.warn('change request failed on its last delivery', { error: String(error) });
  try {
    await failChangeRequest(deps, command.changeRequestId, reason, command);
  } catch (failError) {
    deps.log.warn('could not record the failure; the re-driver will pick the request up', { error: String(failError) });
  }
}

/** Records an invalid message as a rejected, audited change request and sets it aside with the reason. */
async function deadLetterInvalid(
  deps: MessageDependencies,
  operation: Operation,
  body: unknown,
  value: unknown,
  meta: MessageMetadata,
  errors: FieldError[],
): Promise<MessageOutcome> {
  // Each hint is used only when it is valid by itself: a hostile field must not break the record of its own refusal.
  const hintedId = ID_HINT.safeParse(value);
  const hintedSip = SIP_HINT.safeParse(value);
  const hintedActor = ACTOR_HINT.safeParse(value);
  const hintedTrace = TRACE_HINT.safeParse(value);
  const traceContext = hintedTrace.success ? traceContextOf(hintedTrace.data.traceparent, hintedTrace.data.tracestate) : undefined;
  const changeRequestId = hintedId.success ? hintedId.data.changeRequestId : changeRequestIdForMessage(meta.queueName, meta.messageId);
  const record = { changeRequestId, actor: queueActor(meta), correlationId: changeRequestId, ...(traceContext ? { traceContext } : {}) };
  const log = requestLog(deps.log, record);
  await recordInvalidMessage(
    { ...deps, log },
    {
      ...record,
      subject: hintedSip.success ? hintedSip.data.sipAddress : queueActor(meta),
      ...(hintedActor.success ? { onBehalfOf: hintedActor.data.actor } : {}),
      errors,
    },
  );
  const source = operation === 'create' ? Destination.endpointCreate : Destination.endpointDelete;
  const description = errors.map((error) => error.detail).join('; ');
  await deps.bus.deadLetter(source, {
    reason: RejectionCode.invalidMessage,
    description,
    errors,
    original: body,
    messageId: meta.messageId,
  });
  // The field errors name pointers and rules, never the message's values.
  log.info(`endpoint ${operation} message dead-lettered`, { status: 'dead-lettered', errors });
  return { status: 'dead-lettered', changeRequestId, errors };
}

/**
 * Handles one message from the endpoint-create or endpoint-delete queue, whether the HTTP API put it
 * there or automation did. A valid request is applied (or rejected by a rule) exactly once; a
 * malformed one is recorded as rejected with its validation errors, audited, and dead-lettered.
 * Throwing means "retry": the transport redelivers, then sets the message aside as poison.
 */
export async function handleEndpointChangeMessage(
  deps: MessageDependencies,
  operation: Operation,
  body: unknown,
  meta: MessageMetadata,
): Promise<MessageOutcome> {
  const decoded = decode(body);
  const parsed = decoded.errors.length ? { errors: decoded.errors } : parseMessage(operation, decoded.value, meta);
  if ('errors' in parsed) return deadLetterInvalid(deps, operation, body, decoded.value, meta, parsed.errors);
  const { command } = parsed;
  const bound = { ...deps, log: requestLog(deps.log, command) };
  try {
    // A span in the message's trace (with telemetry on), so the event the apply emits continues it.
    const settled = await deps.tracing.inSpan(`apply endpoint ${operation}`, command.traceContext, () =>
      applyChangeRequest(bound, command),
    );
    bound.log.info(`endpoint ${operation} settled`, { status: settled.status, deliveryCount: meta.deliveryCount });
    return { status: settled.status, changeRequestId: command.changeRequestId };
  } catch (error) {
    if (meta.deliveryCount >= deps.delivery.maxDeliveries) await failOnLastDelivery(bound, command, meta, error);
    throw error;
  }
}

/**
 * What the trigger metadata says about a message: its id (`id` on Storage queues, `messageId` on
 * Service Bus) and which delivery this is (`dequeueCount` / `deliveryCount`).
 */
export function messageMetadataOf(
  triggerMetadata: Record<string, unknown> | undefined,
  queueName: string,
  fallbackId: string,
): MessageMetadata {
  const id = triggerMetadata?.['messageId'] ?? triggerMetadata?.['id'];
  const count = Number(triggerMetadata?.['deliveryCount'] ?? triggerMetadata?.['dequeueCount'] ?? 1);
  return {
    messageId: typeof id === 'string' && id !== '' ? id : fallbackId,
    queueName,
    deliveryCount: Number.isInteger(count) && count > 0 ? count : 1,
  };
}

/**
 * The entrypoint of one queue-triggered function: the operation its queue carries, applied to each
 * message with the trigger's metadata; the outcome is logged (by handleEndpointChangeMessage, with the request's fields).
 */
export function endpointChangeQueue(operation: Operation, queueName: string) {
  return (deps: MessageDependencies, body: unknown, trigger: QueueTrigger): Promise<MessageOutcome> =>
    handleEndpointChangeMessage(deps, operation, body, messageMetadataOf(trigger.triggerMetadata, queueName, trigger.invocationId));
}
