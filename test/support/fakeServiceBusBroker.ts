import type { AddressInfo, Socket } from 'node:net';
import { create_container, message as amqpMessage, type EventContext, type Message, type Sender } from 'rhea';

/** A message as the fake broker recorded it, in the SDK's field names. */
export interface ReceivedMessage {
  body: unknown;
  messageId?: string;
  subject?: string;
  correlationId?: string;
  sessionId?: string;
  contentType?: string;
  applicationProperties?: Record<string, unknown>;
}

/** A running fake broker: where to connect, what each queue received, and how to stop it. */
export interface FakeServiceBusBroker {
  port: number;
  connectionString: string;
  received(queue: string): ReceivedMessage[];
  /** The encoded size in bytes of each message a queue received, in the order of `received`. */
  receivedBytes(queue: string): number[];
  /** Every CBS put-token the clients sent: how a Service Bus client authenticates (a SAS token, or an Entra ID JWT). */
  cbsTokens(): CbsToken[];
  close(): Promise<void>;
}

/** One CBS put-token request as the broker received it. */
export interface CbsToken {
  /** `jwt` for a TokenCredential's token, `servicebus.windows.net:sastoken` for a connection string's key. */
  type: unknown;
  /** The entity the token is for (`name`). */
  audience: unknown;
  token: unknown;
}

/** How the fake broker behaves. */
export interface FakeServiceBusBrokerOptions {
  /** The max-message-size it advertises on a sending link and enforces; 256 KiB as on Standard tier by default. */
  maxMessageBytes?: number;
  /**
   * Listen over TLS with this key and certificate (PEM), as Service Bus does on 5671: a client built
   * from a namespace and a credential (no connection string, so no UseDevelopmentEmulator) speaks only TLS.
   */
  tls?: { key: string; cert: string };
}

/** The message format Service Bus uses for a batch: one data section per encoded message. */
const BATCH_FORMAT = 0x80013700;
const DATA_SECTION = 0x75;

/** rhea's decoded body section; a value section arrives already unwrapped, so it has no typecode. */
interface BodySection {
  typecode: number;
  content: unknown;
  multiple?: boolean;
}

/**
 * Starts a fake Service Bus on 127.0.0.1 (test tooling only, never proof of broker semantics): it
 * answers CBS put-token, accepts single and batched sends and records them per queue address, and
 * refuses a transfer over its max-message-size as Service Bus does. There is no receive, no
 * `$management` (those requests get 501), no sessions and no duplicate detection.
 */
export function startFakeServiceBusBroker({
  maxMessageBytes = 256 * 1024,
  tls,
}: FakeServiceBusBrokerOptions = {}): Promise<FakeServiceBusBroker> {
  const cbsTokens: CbsToken[] = [];
  const queues = new Map<string, Array<{ message: ReceivedMessage; bytes: number }>>();
  const replyLinks = new Map<string, Sender>();
  const container = create_container({ id: 'fake-service-bus' });

  container.on('sender_open', (context: EventContext) => {
    // The SDK reads CBS and management answers on a link named by the request's reply_to.
    const sender = context.sender;
    if (sender && isControlNode(sender.source?.address)) replyLinks.set(sender.name, sender);
  });
  container.on('receiver_open', (context: EventContext) => {
    // Without max_message_size on our attach, createMessageBatch yields an unusable batch.
    const receiver = context.receiver as unknown as { local: { attach: { max_message_size: number } } } | undefined;
    if (receiver) receiver.local.attach.max_message_size = maxMessageBytes;
  });
  // A listener, so rhea does not warn on the console when close() drops connections.
  container.on('disconnected', () => undefined);
  container.on('message', (context: EventContext) => {
    const address = context.receiver?.target?.address;
    const message = context.message;
    if (!address || !message) return;
    if (address === '$cbs')
      cbsTokens.push({
        type: message.application_properties?.['type'],
        audience: message.application_properties?.['name'],
        token: message.body,
      });
    if (isControlNode(address)) return answerControl(replyLinks, address, message);
    const format = context.delivery?.format ?? 0;
    const size = encodedSize(message, format);
    if (size > maxMessageBytes) return context.delivery?.reject(messageSizeExceeded(context.delivery.id, size, maxMessageBytes));
    const recorded = queues.get(address) ?? [];
    queues.set(address, recorded);
    recorded.push(...unpack(message, format).map((part) => ({ message: toReceived(part), bytes: encodedSize(part, 0) })));
  });

  const sockets = new Set<Socket>();
  const server = container.listen(tls ? { port: 0, host: '127.0.0.1', transport: 'tls', ...tls } : { port: 0, host: '127.0.0.1' });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      const port = (server.address() as AddressInfo).port;
      resolve({
        port,
        connectionString: `Endpoint=sb://127.0.0.1:${port};SharedAccessKeyName=fake;SharedAccessKey=fake;UseDevelopmentEmulator=true;`,
        received: (queue) => (queues.get(queue) ?? []).map((entry) => entry.message),
        receivedBytes: (queue) => (queues.get(queue) ?? []).map((entry) => entry.bytes),
        cbsTokens: () => [...cbsTokens],
        close: () =>
          new Promise<void>((done) => {
            // server.close waits for open connections, so drop them: a closed broker must look gone to clients.
            // Destroying with an error makes rhea see the disconnect and stop its heartbeat timers,
            // which would otherwise keep the test process alive.
            for (const socket of sockets) socket.destroy(new Error('fake broker closed'));
            server.close(() => done());
          }),
      });
    });
  });
}

function isControlNode(address: string | undefined): boolean {
  return address === '$cbs' || (address?.endsWith('$management') ?? false);
}

/** CBS put-token always succeeds; management operations are refused as not implemented. */
function answerControl(replyLinks: Map<string, Sender>, address: string, request: Message): void {
  const replyTo = typeof request.reply_to === 'string' ? request.reply_to : undefined;
  const link = replyTo === undefined ? undefined : replyLinks.get(replyTo);
  if (!link) return;
  const applicationProperties =
    address === '$cbs'
      ? { 'status-code': 200, 'status-description': 'OK' }
      : {
          statusCode: 501,
          errorCondition: 'amqp:not-implemented',
          statusDescription: `fake broker: ${String(request.application_properties?.['operation'])} not implemented`,
        };
  link.send({ body: undefined, correlation_id: request.message_id, application_properties: applicationProperties });
}

/**
 * The size of a transfer's message. rhea decodes a single message before handing it over; encoding
 * it again gives back its exact size, the SDK having encoded it with rhea too. A batch arrives raw.
 */
function encodedSize(message: Message, format: number): number {
  return format === BATCH_FORMAT ? (message as unknown as Uint8Array).length : amqpMessage.encode(message).length;
}

/** The error Service Bus rejects an oversized message with; the SDK makes it a ServiceBusError `MessageSizeExceeded`. */
function messageSizeExceeded(deliveryId: number, size: number, limit: number): { condition: string; description: string } {
  return {
    condition: 'amqp:link:message-size-exceeded',
    description: `The received message (delivery-id:${deliveryId}, size:${size} bytes) exceeds the limit (${limit} bytes) currently allowed on the link.`,
  };
}

/** A batch arrives as raw bytes (rhea does not decode non-zero formats); each data section is one message. */
function unpack(message: Message, format: number): Message[] {
  if (format !== BATCH_FORMAT) return [message];
  const outer = decode(Buffer.from(message as unknown as Uint8Array));
  const section = outer.body as BodySection | undefined;
  if (!section) return [];
  const parts = section.multiple ? (section.content as Buffer[]) : [section.content as Buffer];
  return parts.map(decode);
}

/** rhea types decode's result loosely (no `body`); it is a full message. */
function decode(bytes: Buffer): Message {
  return amqpMessage.decode(bytes) as unknown as Message;
}

function toReceived(message: Message): ReceivedMessage {
  const received: ReceivedMessage = { body: decodeBody(message.body) };
  const messageId = asString(message.message_id);
  const correlationId = asString(message.correlation_id);
  if (messageId !== undefined) received.messageId = messageId;
  if (typeof message.subject === 'string') received.subject = message.subject;
  if (correlationId !== undefined) received.correlationId = correlationId;
  if (typeof message.group_id === 'string') received.sessionId = message.group_id;
  if (typeof message.content_type === 'string') received.contentType = message.content_type;
  if (message.application_properties) received.applicationProperties = { ...message.application_properties };
  return received;
}

/** Mirrors the SDK's decoding: a data section is JSON when it parses, else the raw bytes; other sections as-is. */
function decodeBody(body: unknown): unknown {
  if (!isSection(body)) return body;
  if (body.typecode !== DATA_SECTION) return body.content;
  const bytes = body.multiple ? Buffer.concat(body.content as Buffer[]) : (body.content as Buffer);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return bytes;
  }
}

function isSection(body: unknown): body is BodySection {
  return typeof body === 'object' && body !== null && typeof (body as { typecode?: unknown }).typecode === 'number';
}

/** An AMQP id (a string, a number, a UUID's bytes) as text. */
function asString(id: unknown): string | undefined {
  if (id === undefined || id === null) return undefined;
  if (Buffer.isBuffer(id)) return id.toString('hex');
  return typeof id === 'string' || typeof id === 'number' || typeof id === 'bigint' ? String(id) : JSON.stringify(id);
}
