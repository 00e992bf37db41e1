import { z } from 'zod';
import type { FieldError } from '../domain/errors';
import { applyChangeRequest, recordInvalidMessage } from '../application/changeRequests';
import { changeRequestIdForMessage, EndpointChangeMessageSchema, type EndpointChangeMessage } from '../application/messages';
import { Destination } from '../application/ports';
import { container } from '../container';
import { fieldErrors } from './problems';

/** What the trigger tells us about the message besides its body. */
export interface MessageMetadata {
  /** The transport's message id (stable across redeliveries). */
  messageId: string;
  queueName: string;
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
    const settled = await applyChangeRequest(deps, {
      changeRequestId,
      request,
      actor: actor ?? `queue:${meta.queueName}`,
      correlationId: correlationId ?? changeRequestId,
      channel: 'queue',
    });
    return { status: settled.status, changeRequestId };
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

/** The message id from trigger metadata: `id` on Storage queues, `messageId` on Service Bus. */
export function messageMetadataOf(triggerMetadata: Record<string, unknown> | undefined, queueName: string, fallbackId: string): MessageMetadata {
  const id = triggerMetadata?.['messageId'] ?? triggerMetadata?.['id'];
  return { messageId: typeof id === 'string' && id !== '' ? id : fallbackId, queueName };
}
