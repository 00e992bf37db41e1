import { createHash } from 'node:crypto';
import type { DeadLetter, OutgoingMessage } from '../application/ports/messageBus';
import { ErrorCode, TooLargeError } from '../domain/errors';
import { toWellFormed } from '../domain/text';

/**
 * What a message transport accepts and where it sets letters aside, named once. The adapters enforce
 * these, and the in-memory bus enforces the rules of the transport it stands in for, so a test using
 * the fake cannot send what production would refuse. This module loads no SDK.
 */
/** The transports there are rules for (the settings' MESSAGING_TRANSPORT values). */
export type TransportName = 'storage-queues' | 'service-bus';

export interface TransportRules {
  readonly transport: TransportName;
  /** How error messages name the transport. */
  readonly title: string;
  /** The largest message the transport accepts, in the bytes `sizeOf` counts. */
  readonly maxMessageBytes: number;
  /** Appended to a queue's name, it names the queue where that queue's letters are set aside. */
  readonly deadLetterSuffix: string;
  /** Whether a message's id and properties travel beside its body; when not, the body must carry everything. */
  readonly carriesMetadata: boolean;
  /** The bytes a message takes on this transport. */
  sizeOf(message: OutgoingMessage): number;
}

/** Base64 of the JSON body: the Functions queue trigger's default `messageEncoding`. */
export function encodeQueueMessage(body: unknown): string {
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64');
}

/** Storage queues: a message is at most 64 KiB of text (ours is base64), the body only; poison goes to `<queue>-poison`. */
export const StorageQueueRules: TransportRules = {
  transport: 'storage-queues',
  title: 'Storage queue',
  maxMessageBytes: 64 * 1024,
  // The Functions host moves a message it gave up on to `<queue>-poison`; operators look there.
  deadLetterSuffix: '-poison',
  carriesMetadata: false,
  sizeOf: (message) => encodeQueueMessage(message.body).length,
};

/** Bytes AMQP adds to a string's or symbol's UTF-8 text at most: a type code and a 4-byte length. */
const AMQP_STRING_OVERHEAD = 5;
/** Bytes a number or boolean takes at most: a type code and 8 bytes (a long or a double). */
const AMQP_SCALAR_BYTES = 9;
/**
 * The most the SDK's encoding adds around a message's fields: header, message-annotations,
 * properties and application-properties sections (a 3-byte descriptor and at most 9 bytes of
 * list or map size and count each), the data section (3 + 5), one null byte per absent header
 * (5) and properties (13) field, and the `Diagnostic-Id` property (13 characters) holding a
 * 55-character traceparent that the SDK adds when tracing is on.
 */
const AMQP_ENVELOPE_BYTES = 4 * (3 + 9) + (3 + 5) + 5 + 13 + (13 + AMQP_STRING_OVERHEAD + 55 + AMQP_STRING_OVERHEAD);

const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/** What an application property's value takes at most. */
function propertyValueBytes(value: string | number | boolean): number {
  return typeof value === 'string' ? utf8Bytes(value) + AMQP_STRING_OVERHEAD : AMQP_SCALAR_BYTES;
}

/**
 * An upper bound of the AMQP message @azure/service-bus encodes for `message`: its JSON body in a
 * data section, each set string field and each application property in its widest encoding, and
 * the envelope. Service Bus counts that whole message against the limit, properties included; an
 * over-estimate refuses a message at most a few hundred bytes short of the limit, an under-estimate
 * would let the fake promise what the broker refuses.
 */
function serviceBusMessageSize(message: OutgoingMessage): number {
  const body = utf8Bytes(JSON.stringify(message.body === undefined ? null : message.body));
  const fields = [message.messageId, message.contentType, message.subject, message.correlationId, message.sessionId]
    .filter((field): field is string => field !== undefined)
    .reduce((sum, field) => sum + utf8Bytes(field) + AMQP_STRING_OVERHEAD, 0);
  const properties = Object.entries(message.properties ?? {}).reduce(
    (sum, [name, value]) => sum + utf8Bytes(name) + AMQP_STRING_OVERHEAD + propertyValueBytes(value),
    0,
  );
  return body + fields + properties + AMQP_ENVELOPE_BYTES;
}

/**
 * Service Bus, Standard tier: a message is at most 256 KB (the 262,144 bytes the broker advertises
 * as the link's max-message-size), metadata travels beside the body, and letters go to `<entity>-invalid`.
 */
export const ServiceBusRules: TransportRules = {
  transport: 'service-bus',
  title: 'Service Bus',
  maxMessageBytes: 256 * 1024,
  // Not `<entity>/$deadletterqueue`: only the holder of a peek-lock can put a message there (see ServiceBusMessageBus).
  deadLetterSuffix: '-invalid',
  carriesMetadata: true,
  sizeOf: serviceBusMessageSize,
};

/**
 * The message a dead letter travels as: the whole letter is the body, and the reason and description
 * ride in the application properties Service Bus itself sets on its dead-letter queue, so operators
 * read both the same way. The original message id keeps duplicate detection working on re-sends.
 */
export function deadLetterMessage(letter: DeadLetter, rules: TransportRules): OutgoingMessage {
  const message = deadLetterOf(letter);
  return rules.sizeOf(message) <= rules.maxMessageBytes ? message : deadLetterOf({ ...letter, original: excerptOf(letter.original) });
}

/** Characters of an oversized original a dead letter keeps: the letter then fits either transport. */
const EXCERPT_CHARACTERS = 8 * 1024;

/**
 * An original too large to travel inside its dead letter (it was near the limit itself, and the
 * letter adds the reason): its size, digest and first characters, so operators can still find and
 * tell it apart. The full message is gone either way; this keeps the letter from failing too.
 */
function excerptOf(original: unknown): { truncated: true; characters: number; sha256: string; excerpt: string } {
  const text = typeof original === 'string' ? original : (JSON.stringify(original) ?? String(original));
  return {
    truncated: true,
    characters: text.length,
    sha256: createHash('sha256').update(text).digest('hex'),
    excerpt: toWellFormed(text.slice(0, EXCERPT_CHARACTERS)),
  };
}

function deadLetterOf(letter: DeadLetter): OutgoingMessage {
  return {
    body: letter,
    messageId: letter.messageId,
    contentType: 'application/json',
    subject: letter.reason,
    properties: { DeadLetterReason: letter.reason, DeadLetterErrorDescription: letter.description },
  };
}

/** Refuses, before anything is sent, a message its transport would refuse for its size. */
export function refuseIfTooLarge(rules: TransportRules, message: OutgoingMessage): void {
  refuseIfOverLimit(rules, rules.sizeOf(message));
}

/** Refuses a message of `size` bytes (as `rules.sizeOf` counts them) that is over the transport's limit. */
export function refuseIfOverLimit(rules: TransportRules, size: number): void {
  if (size > rules.maxMessageBytes) {
    throw new TooLargeError(
      ErrorCode.messageTooLarge,
      `a ${size}-byte message exceeds the ${rules.maxMessageBytes}-byte ${rules.title} limit`,
    );
  }
}
