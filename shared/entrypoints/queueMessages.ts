import { z } from 'zod';
import type { FieldError } from '../domain/errors';
import { FailureCode } from '../domain/changeRequest';
import { applyChangeRequest, failChangeRequest, recordInvalidMessage, type QueuedChangeRequest } from '../application/changeRequests';
import type { Dependencies } from '../application/commitDecision';
import { changeRequestIdForMessage, EndpointChangeMessageSchema, type EndpointChangeMessage } from '../application/messages';
import { Destination } from '../application/ports';
import { container } from '../container';
import { fieldErrors } from './problems';

/** What the trigger tells us about the message besides its body. */
export interface MessageMetadata {
  /** The transport's message id (stable across redeliveries). */
  messageId: string;
  queueName: string;
  /** Which delivery of the message this is, from 1 (Storage dequeueCount, Service Bus deliveryCount). */
  deliveryCount: number;
}

/** How a queue message was settled. */
export type MessageOutcome = { status: 'applied' | 'rejected' | 'failed' | 'accepted'; changeRequestId: string } | { status: 'dead-lettered'; changeRequestId: string; errors: FieldError[] };

/** Queue bodies arrive as parsed JSON, a string, or bytes, depending on trigger and encoding. */
function decode(body: unknown): { value: unknown; errors: FieldError[] } {
  const text = typeof body === 'string' ? body : Buffer.isBuffer(body) || body instanceof Uint8Array ? Buffer.from(body).toString('utf8') : undefined;
  if (text === undefined) return { value: body, errors: [] };
  try {
    return { value: JSON.parse(text), errors: [] };
  } catch {
    return { value: text, errors: [{ pointer: '#', detail: 'the message body must be a JSON object', location: 'message' }] };
  }
}

const SIP_HINT = z.object({ sipAddress: z.string().max(300) });
const ID_HINT = z.object({ changeRequestId: z.uuid() });

/**
 * Handles one message from the endpoint-create or endpoint-delete queue, whether the HTTP API put it
 * there or automation did. A valid request is applied (or rejected by a rule) exactly once; a
 * malformed one is recorded as rejected with its validation errors, audited, and dead-lettered.
 * Throwing means "retry": the transport redelivers, then sets the message aside as poison.
 */
export async function handleEndpointChangeMessage(operation: 'create' | 'delete', body: unknown, meta: MessageMetadata): Promise<MessageOutcome> {
  const deps = await container();
  const source = operation === 'create' ? Destination.endpointCreate : Destination.endpointDelete;
  const decoded = decode(body);
  const parsed = decoded.errors.length ? undefined : EndpointChangeMessageSchema.safeParse(decoded.value);
  const errors = decoded.errors.length ? decoded.errors : parsed && !parsed.success ? fieldErrors(parsed.error, 'message') : [];
  if (parsed?.success && parsed.data.operation !== operation) {
    errors.push({ pointer: '#/operation', detail: `operation must be "${operation}" on the ${meta.queueName} queue`, location: 'message' });
  }

  if (parsed?.success && errors.length === 0) {
    const message: EndpointChangeMessage = parsed.data;
    const changeRequestId = message.changeRequestId ?? changeRequestIdForMessage(meta.queueName, meta.messageId);
    const { schemaVersion: _version, changeRequestId: _id, correlationId, actor, ...request } = message;
    const command: QueuedChangeRequest = {
      changeRequestId,
      request,
      actor: actor ?? `queue:${meta.queueName}`,
      correlationId: correlationId ?? changeRequestId,
      channel: 'queue',
    };
    try {
      const settled = await applyChangeRequest(deps, command);
      return { status: settled.status, changeRequestId };
    } catch (error) {
      if (meta.deliveryCount >= deps.delivery.maxDeliveries) await failOnLastDelivery(deps, command, meta, error);
      throw error;
    }
  }

  const hintedId = ID_HINT.safeParse(decoded.value);
  const hintedSip = SIP_HINT.safeParse(decoded.value);
  const changeRequestId = hintedId.success ? hintedId.data.changeRequestId : changeRequestIdForMessage(meta.queueName, meta.messageId);
  await recordInvalidMessage(deps, {
    changeRequestId,
    subject: hintedSip.success ? hintedSip.data.sipAddress.trim().toLowerCase() : `queue:${meta.queueName}`,
    actor: `queue:${meta.queueName}`,
    correlationId: changeRequestId,
    errors,
  });
  await deps.bus.deadLetter(source, {
    reason: 'invalid_message',
    description: errors.map((error) => error.detail).join('; '),
    errors,
    original: body,
    messageId: meta.messageId,
  });
  return { status: 'dead-lettered', changeRequestId, errors };
}

/**
 * The last delivery failed too: the transport now sets the message aside (poison queue, dead-letter
 * queue), so the request is settled as failed, with the reason, and audited. If even that cannot be
 * written, the re-driver finds the request still waiting and carries on from there.
 */
async function failOnLastDelivery(deps: Dependencies, command: QueuedChangeRequest, meta: MessageMetadata, error: unknown): Promise<void> {
  const reason = {
    code: FailureCode.processingFailed,
    message: `processing failed on all ${meta.deliveryCount} deliveries of the message, which was set aside for operators (${meta.queueName} poison / dead-letter queue)`,
  };
  deps.log.warn('change request failed on its last delivery', { changeRequestId: command.changeRequestId, error: String(error) });
  try {
    await failChangeRequest(deps, command.changeRequestId, reason, command);
  } catch (failError) {
    deps.log.warn('could not record the failure; the re-driver will pick the request up', { changeRequestId: command.changeRequestId, error: String(failError) });
  }
}

/**
 * What the trigger metadata says about a message: its id (`id` on Storage queues, `messageId` on
 * Service Bus) and which delivery this is (`dequeueCount` / `deliveryCount`).
 */
export function messageMetadataOf(triggerMetadata: Record<string, unknown> | undefined, queueName: string, fallbackId: string): MessageMetadata {
  const id = triggerMetadata?.['messageId'] ?? triggerMetadata?.['id'];
  const count = Number(triggerMetadata?.['deliveryCount'] ?? triggerMetadata?.['dequeueCount'] ?? 1);
  return { messageId: typeof id === 'string' && id !== '' ? id : fallbackId, queueName, deliveryCount: Number.isInteger(count) && count > 0 ? count : 1 };
}
