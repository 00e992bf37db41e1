import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Destination, type DeadLetter, type MessageBus, type OutgoingMessage } from '../../shared/application/ports/messageBus';
import type { DeliveredMessage } from '../../shared/adapters/memory/InMemoryMessageBus';
import type { CloudEvent } from '../../shared/application/events';
import { eventMessage } from '../../shared/application/publishEvents';
import type { TransportRules } from '../../shared/adapters/transportRules';
import { TooLargeError, UnavailableError } from '../../shared/domain/errors';

/** One adapter under the contract: its bus, its transport's rules, and a way to read back its queues. */
export interface MessageBusSubject {
  bus: MessageBus;
  rules: TransportRules;
  /** The queue (or entity) behind each destination. */
  queues: Record<Destination, string>;
  /** What a consumer of the named queue would receive, oldest first; nothing when it does not exist. */
  read(queue: string): Promise<DeliveredMessage[]>;
  /** A bus of the same kind whose transport cannot be reached. */
  unreachable(): Promise<MessageBus>;
  /** Releases what the subject opened. */
  close(): Promise<void>;
}

/**
 * What each transport does, written out here rather than read from the rules, so that a changed
 * constant fails the contract: Storage queues take 64 KiB of text, the body only, and the Functions
 * host's poison queue is `<queue>-poison`; Service Bus Standard takes 256 KB with metadata, and our
 * dead letters go to `<entity>-invalid`.
 */
const TRANSPORTS = {
  'storage-queues': { maxMessageBytes: 65_536, deadLetterSuffix: '-poison', carriesMetadata: false },
  'service-bus': { maxMessageBytes: 262_144, deadLetterSuffix: '-invalid', carriesMetadata: true },
} as const;

/** A change-request message with non-ASCII text and every kind of metadata the port has. */
function aMessage(destination: Destination, overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    messageId: `message-to-${destination}`,
    body: {
      schemaVersion: 1,
      operation: destination === 'endpointDelete' ? 'delete' : 'create',
      sipAddress: 'sip:chat@contoso.com',
      poolFqdn: 'pcpool.contoso.com',
      displayName: 'Salle de réunion — 会议室 ✓',
      nested: { list: [1, 'two', null, true, { deep: 2.5 }] },
    },
    contentType: 'application/json',
    subject: 'sip:chat@contoso.com',
    correlationId: `corr-${destination}`,
    sessionId: 'sip:chat@contoso.com',
    properties: { 'cloudEvents:specversion': '1.0', schemaVersion: 1, replay: false },
    ...overrides,
  };
}

/** An audit event as the service publishes it, with every optional attribute set. */
function anEvent(): CloudEvent {
  return {
    specversion: '1.0',
    id: '0190c0de-0000-7000-8000-00000000e001',
    source: '/pchat-endpoints/default',
    type: 'pchat.endpoint.created.v1',
    subject: 'sip:chat@contoso.com',
    time: '2024-05-01T10:00:00.000Z',
    datacontenttype: 'application/json',
    sequence: '0000000000000042',
    correlationid: 'corr-event',
    causationid: '0190c0de-0000-7000-8000-00000000c001',
    data: { action: 'endpoint.created', subject: 'sip:chat@contoso.com', sequence: 42 } as unknown as CloudEvent['data'],
  };
}

/** A dead letter with everything a letter may hold. */
function aDeadLetter(): DeadLetter {
  return {
    reason: 'invalid_message',
    description: 'SIP address must start with the sip: scheme (sip:user@host)',
    errors: [{ pointer: '#/sipAddress', detail: 'SIP address must start with the sip: scheme (sip:user@host)', location: 'message' }],
    original: '{"schemaVersion":1,"operation":"create","sipAddress":"chat@contoso.com"}',
    messageId: 'queue-message-42',
  };
}

/** What a consumer receives of `message` on a transport: the body, and the metadata only where the transport carries it. */
function deliveredOf(rules: TransportRules, message: OutgoingMessage): DeliveredMessage {
  return TRANSPORTS[rules.transport].carriesMetadata ? message : { body: message.body };
}

/** The message a dead letter is expected to arrive as: the letter, with Service Bus's DLQ properties where metadata travels. */
function deliveredLetter(rules: TransportRules, letter: DeadLetter): DeliveredMessage {
  if (!TRANSPORTS[rules.transport].carriesMetadata) return { body: letter };
  return {
    body: letter,
    messageId: letter.messageId,
    contentType: 'application/json',
    subject: letter.reason,
    properties: { DeadLetterReason: letter.reason, DeadLetterErrorDescription: letter.description },
  };
}

/** A message whose body is `length` characters of ASCII padding. */
function padded(length: number): OutgoingMessage {
  return aMessage('endpointCreate', { body: { pad: 'x'.repeat(length) } });
}

/** The longest padding with which `rules` still count a message as within their limit. */
function longestPaddingWithin(rules: TransportRules): number {
  let [low, high] = [0, rules.maxMessageBytes];
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (rules.sizeOf(padded(middle)) <= rules.maxMessageBytes) low = middle;
    else high = middle - 1;
  }
  return low;
}

/** The queue where a destination's dead letters are set aside, by the transport's documented naming. */
function deadLetterQueueOf(subject: MessageBusSubject, destination: Destination): string {
  return `${subject.queues[destination]}${TRANSPORTS[subject.rules.transport].deadLetterSuffix}`;
}

/** Every queue a subject's messages may land in: each destination's queue and its dead-letter queue. */
function allQueues(subject: MessageBusSubject): string[] {
  return Object.values(Destination).flatMap((destination) => [subject.queues[destination], deadLetterQueueOf(subject, destination)]);
}

/** What every queue holds, for asserting where a message did (and did not) go. */
async function everyQueue(subject: MessageBusSubject): Promise<Record<string, DeliveredMessage[]>> {
  return Object.fromEntries(await Promise.all(allQueues(subject).map(async (queue) => [queue, await subject.read(queue)] as const)));
}

/** `expected` in the queues it names, every other queue empty. */
function onlyIn(subject: MessageBusSubject, expected: Record<string, DeliveredMessage[]>): Record<string, DeliveredMessage[]> {
  return { ...Object.fromEntries(allQueues(subject).map((queue) => [queue, []])), ...expected };
}

/** Passes when `error` is the TooLargeError a transport's size limit raises. */
function isMessageTooLarge(error: unknown): boolean {
  assert.ok(error instanceof TooLargeError, `expected TooLargeError, got ${String(error)}`);
  assert.equal(error.code, 'message_too_large');
  return true;
}

/** Passes when `error` is the UnavailableError an unreachable transport raises (retryable). */
function isUnavailable(error: unknown): boolean {
  assert.ok(error instanceof UnavailableError, `expected UnavailableError, got ${String(error)}`);
  assert.equal(error.code, 'service_unavailable');
  return true;
}

/** Runs `check` on a fresh subject and closes it, whatever happens. */
async function withSubject(
  makeSubject: () => Promise<MessageBusSubject>,
  check: (subject: MessageBusSubject) => Promise<void>,
): Promise<void> {
  const subject = await makeSubject();
  try {
    await check(subject);
  } finally {
    await subject.close();
  }
}

/**
 * The MessageBus contract, run against every adapter (and the in-memory bus standing in for each
 * transport), so that none promises what another refuses. `makeSubject` gives a subject with queues
 * of its own for each test.
 */
export function describeMessageBusContract(name: string, makeSubject: () => Promise<MessageBusSubject>): void {
  const itWith = (title: string, check: (subject: MessageBusSubject) => Promise<void>) =>
    void it(title, () => withSubject(makeSubject, check));

  describe(name, () => {
    itWith('keeps the documented rules of its transport', async ({ rules }) => {
      const { transport, maxMessageBytes, deadLetterSuffix, carriesMetadata } = rules;
      assert.deepEqual({ maxMessageBytes, deadLetterSuffix, carriesMetadata }, TRANSPORTS[transport]);
    });

    for (const destination of Object.values(Destination)) {
      itWith(`delivers a message sent to ${destination} once, with its body intact, and nowhere else`, async (subject) => {
        const message = aMessage(destination);

        await subject.bus.send(destination, message);

        assert.deepEqual(
          await everyQueue(subject),
          onlyIn(subject, { [subject.queues[destination]]: [deliveredOf(subject.rules, message)] }),
        );
      });
    }

    itWith('delivers each of several messages sent to one queue once (in no promised order)', async (subject) => {
      const messages = [1, 2, 3].map((n) => aMessage('auditEvents', { messageId: `event-${n}`, body: { n } }));

      for (const message of messages) await subject.bus.send('auditEvents', message);

      const received = await subject.read(subject.queues.auditEvents);
      const byN = (a: DeliveredMessage, b: DeliveredMessage) => (a.body as { n: number }).n - (b.body as { n: number }).n;
      assert.deepEqual(
        received.sort(byN),
        messages.map((message) => deliveredOf(subject.rules, message)),
      );
    });

    itWith(
      'delivers an audit event as the outbox publishes it: event id, subject, content type and the cloudEvents: properties',
      async (subject) => {
        const event = anEvent();

        await subject.bus.send('auditEvents', eventMessage(event));

        // Written out, not taken from eventMessage: the AMQP binding of CloudEvents names each attribute
        // `cloudEvents:<attribute>` in the application properties (structured mode may carry them too).
        const onServiceBus: DeliveredMessage = {
          body: event,
          messageId: '0190c0de-0000-7000-8000-00000000e001',
          contentType: 'application/cloudevents+json; charset=utf-8',
          subject: 'sip:chat@contoso.com',
          correlationId: 'corr-event',
          properties: {
            'cloudEvents:specversion': '1.0',
            'cloudEvents:id': '0190c0de-0000-7000-8000-00000000e001',
            'cloudEvents:source': '/pchat-endpoints/default',
            'cloudEvents:type': 'pchat.endpoint.created.v1',
            'cloudEvents:subject': 'sip:chat@contoso.com',
            'cloudEvents:time': '2024-05-01T10:00:00.000Z',
            'cloudEvents:datacontenttype': 'application/json',
            'cloudEvents:sequence': '0000000000000042',
            'cloudEvents:correlationid': 'corr-event',
            'cloudEvents:causationid': '0190c0de-0000-7000-8000-00000000c001',
          },
        };
        const expected = TRANSPORTS[subject.rules.transport].carriesMetadata ? onServiceBus : { body: event };
        assert.deepEqual(await everyQueue(subject), onlyIn(subject, { [subject.queues.auditEvents]: [expected] }));
      },
    );

    itWith(
      "sets a dead letter aside on its queue's dead-letter queue with reason, description, errors, original and message id",
      async (subject) => {
        const letter = aDeadLetter();

        await subject.bus.deadLetter('endpointCreate', letter);

        assert.deepEqual(
          await everyQueue(subject),
          onlyIn(subject, { [deadLetterQueueOf(subject, 'endpointCreate')]: [deliveredLetter(subject.rules, letter)] }),
        );
      },
    );

    itWith("delivers a message exactly at its transport's size limit", async (subject) => {
      const atLimit = padded(longestPaddingWithin(subject.rules));
      assert.equal(subject.rules.sizeOf(atLimit), TRANSPORTS[subject.rules.transport].maxMessageBytes);

      await subject.bus.send('endpointCreate', atLimit);

      assert.deepEqual(await subject.read(subject.queues.endpointCreate), [deliveredOf(subject.rules, atLimit)]);
    });

    itWith("refuses a message just over its transport's size limit with TooLargeError, delivering nothing of it", async (subject) => {
      const overLimit = padded(longestPaddingWithin(subject.rules) + 1);
      assert.ok(subject.rules.sizeOf(overLimit) > TRANSPORTS[subject.rules.transport].maxMessageBytes);

      await assert.rejects(subject.bus.send('endpointDelete', overLimit), isMessageTooLarge);

      assert.deepEqual(await everyQueue(subject), onlyIn(subject, {}));
    });

    itWith(
      'dead-letters a message too large to travel beside its reason with an excerpt of it, so the letter is not lost too',
      async (subject) => {
        const original = JSON.stringify(padded(longestPaddingWithin(subject.rules)).body);

        await subject.bus.deadLetter('endpointDelete', { ...aDeadLetter(), original });

        const letters = (await subject.read(deadLetterQueueOf(subject, 'endpointDelete'))).map((m) => m.body as DeadLetter);
        assert.deepEqual(
          letters.map((letter) => [letter.reason, letter.messageId, letter.original]),
          [
            [
              'invalid_message',
              'queue-message-42',
              {
                truncated: true,
                characters: original.length,
                sha256: createHash('sha256').update(original).digest('hex'),
                excerpt: original.slice(0, 8 * 1024),
              },
            ],
          ],
        );
      },
    );

    itWith('rejects with UnavailableError when its transport cannot be reached', async (subject) => {
      const unreachable = await subject.unreachable();

      await assert.rejects(unreachable.send('endpointCreate', aMessage('endpointCreate')), isUnavailable);
    });

    itWith('finds its transport reachable without sending anything (readiness)', async (subject) => {
      await subject.bus.checkReachable(AbortSignal.timeout(10_000));
      await subject.bus.checkReachable(AbortSignal.timeout(10_000));

      assert.deepEqual(await everyQueue(subject), onlyIn(subject, {}));
    });

    itWith('finds an unreachable transport unavailable: checkReachable rejects with UnavailableError', async (subject) => {
      const unreachable = await subject.unreachable();

      await assert.rejects(unreachable.checkReachable(AbortSignal.timeout(10_000)), isUnavailable);
    });

    itWith('gives up a reachability check whose deadline has passed with UnavailableError', async (subject) => {
      await assert.rejects(subject.bus.checkReachable(AbortSignal.abort()), isUnavailable);
    });
  });
}
