import { z } from 'zod';
import { FailureCode, RejectionCode } from '../../domain/codes';
import type { FieldError } from '../../domain/errors';
import { applyChangeRequest, type ApplyDependencies, type QueuedChangeRequest } from '../../application/changeRequests/applyChangeRequest';
import { failChangeRequest } from '../../application/changeRequests/failChangeRequest';
import { changeRequestIdForMessage, EndpointChangeMessageSchema } from '../../application/changeRequests/messages';
import { recordInvalidMessage } from '../../application/changeRequests/recordInvalidMessage';
import type { ServiceDependencies } from '../../application/dependencies';
import { Destination } from '../../application/ports/messageBus';
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
  triggerMetadata?: Record<string, unknown>;
}

/** How a queue message was settled. */
export type MessageOutcome =
  | { status: 'applied' | 'rejected' | 'failed' | 'accepted'; changeRequestId: string }
  | { status: 'dead-lettered'; changeRequestId: string; errors: FieldError[] };

/** The operations, each on its own queue. */
export type Operation = 'create' | 'delete';

const SIP_HINT = z.object({ sipAddress: z.string().max(300) });
const ID_HINT = z.object({ changeRequestId: z.uuid() });

/** Queue bodies arrive as parsed JSON, a string, or bytes, depending on trigger and encoding. */
function decode(body: unknown): { value: unknown; errors: FieldError[] } {
  const text =
    typeof body === 'string' ? body : Buffer.isBuffer(body) || body instanceof Uint8Array ? Buffer.from(body).toString('utf8') : undefined;
  if (text === undefined) return { value: body, errors: [] };
  try {
    return { value: JSON.parse(text), errors: [] };
  } catch {
    return { value: text, errors: [{ pointer: '#', detail: 'the message body must be a JSON object', location: 'message' }] };
  }
}

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
  const { schemaVersion: _version, changeRequestId: givenId, correlationId, actor, ...request } = parsed.data;
  const changeRequestId = givenId ?? changeRequestIdForMessage(meta.queueName, meta.messageId);
  return {
    command: {
      changeRequestId,
      request,
      actor: actor ?? `queue:${meta.queueName}`,
      correlationId: correlationId ?? changeRequestId,
      channel: 'queue',
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
  deps.log.warn('change request failed on its last delivery', { changeRequestId: command.changeRequestId, error: String(error) });
  try {
    await failChangeRequest(deps, command.changeRequestId, reason, command);
  } catch (failError) {
    deps.log.warn('could not record the failure; the re-driver will pick the request up', {
      changeRequestId: command.changeRequestId,
      error: String(failError),
    });
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
  const hintedId = ID_HINT.safeParse(value);
  const hintedSip = SIP_HINT.safeParse(value);
  const changeRequestId = hintedId.success ? hintedId.data.changeRequestId : changeRequestIdForMessage(meta.queueName, meta.messageId);
  const subject = hintedSip.success ? hintedSip.data.sipAddress.trim().toLowerCase() : `queue:${meta.queueName}`;
  await recordInvalidMessage(deps, { changeRequestId, subject, actor: `queue:${meta.queueName}`, correlationId: changeRequestId, errors });
  const source = operation === 'create' ? Destination.endpointCreate : Destination.endpointDelete;
  const description = errors.map((error) => error.detail).join('; ');
  await deps.bus.deadLetter(source, {
    reason: RejectionCode.invalidMessage,
    description,
    errors,
    original: body,
    messageId: meta.messageId,
  });
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
  try {
    const settled = await applyChangeRequest(deps, parsed.command);
    return { status: settled.status, changeRequestId: parsed.command.changeRequestId };
  } catch (error) {
    if (meta.deliveryCount >= deps.delivery.maxDeliveries) await failOnLastDelivery(deps, parsed.command, meta, error);
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
 * message with the trigger's metadata; the outcome is logged.
 */
export function endpointChangeQueue(operation: Operation, queueName: string) {
  return async (deps: MessageDependencies, body: unknown, trigger: QueueTrigger): Promise<MessageOutcome> => {
    const outcome = await handleEndpointChangeMessage(
      deps,
      operation,
      body,
      messageMetadataOf(trigger.triggerMetadata, queueName, trigger.invocationId),
    );
    deps.log.info(`endpoint ${operation} settled`, outcome);
    return outcome;
  };
}
