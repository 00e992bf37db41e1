import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceBusClient } from '@azure/service-bus';
import { Destination, type OutgoingMessage } from '../../shared/application/ports/messageBus';
import { TooLargeError, UnavailableError } from '../../shared/domain/errors';
import {
  createServiceBusMessageBus,
  type ClosableMessageBus,
  type ServiceBusEntities,
} from '../../shared/adapters/serviceBus/ServiceBusMessageBus';
import { deadLetterMessage, ServiceBusRules } from '../../shared/adapters/transportRules';
import { startFakeServiceBusBroker, type FakeServiceBusBroker } from '../support/fakeServiceBusBroker';

// What every adapter must do (delivery, dead letters, size limit, outages) is the MessageBus contract in
// test/contract; this file covers what is particular to Service Bus: the AMQP fields, the dead-letter
// suffix setting, the size estimate against the SDK's encoding, and a broker that goes away.

const entities: ServiceBusEntities = {
  endpointCreate: 'endpoint-create',
  endpointDelete: 'endpoint-delete',
  auditEvents: 'audit-events',
};

// No retries and a short try timeout, so a failure shows up as a failure instead of a slow test.
const clientOptions = { retryOptions: { maxRetries: 0, timeoutInMs: 5000 } };

function changeRequestMessage(destination: Destination): OutgoingMessage {
  const id = `0190c0de-0000-7000-8000-${destination.length.toString().padStart(12, '0')}`;
  return {
    messageId: id,
    body: {
      id,
      request: { operation: 'create', sipAddress: 'sip:room1@contoso.com', poolFqdn: 'pchat.contoso.com', displayName: 'Room 1' },
      attempts: 0,
      nested: { list: [1, 'two', null, true] },
    },
    contentType: 'application/json',
    subject: `change-request.${destination}`,
    correlationId: `corr-${destination}`,
    sessionId: 'sip:room1@contoso.com',
    properties: { 'cloudEvents:id': id, 'cloudEvents:specversion': '1.0', schemaVersion: 1, replay: false },
  };
}

/** A message ServiceBusRules count as exactly `bytes`: each padding character is one byte of JSON. */
function messageEstimatedAt(bytes: number): OutgoingMessage {
  const unpadded: OutgoingMessage = { messageId: 'padded', body: { pad: '' }, contentType: 'application/json' };
  return { ...unpadded, body: { pad: 'x'.repeat(bytes - ServiceBusRules.sizeOf(unpadded)) } };
}

describe('ServiceBusMessageBus against a fake AMQP broker', () => {
  let broker: FakeServiceBusBroker;
  let client: ServiceBusClient;
  let bus: ClosableMessageBus;

  before(async () => {
    broker = await startFakeServiceBusBroker();
    client = new ServiceBusClient(broker.connectionString, clientOptions);
    bus = createServiceBusMessageBus(client, entities);
  });

  after(async () => {
    await bus?.close();
    await client?.close();
    await broker?.close();
  });

  it('leaves unset optional fields off the wire', async () => {
    await bus.send(Destination.endpointDelete, { messageId: 'bare-1', body: { operation: 'delete' }, contentType: 'application/json' });

    const bare = broker.received(entities.endpointDelete).find((m) => m.messageId === 'bare-1');
    assert.deepEqual(bare, { body: { operation: 'delete' }, messageId: 'bare-1', contentType: 'application/json' });
  });

  it('names the dead-letter queue with a configured suffix', async () => {
    const poisonBus = createServiceBusMessageBus(client, { ...entities, deadLetterSuffix: '-poison' });
    try {
      await poisonBus.deadLetter(Destination.auditEvents, { reason: 'r', description: 'd', original: null, messageId: 'poison-2' });
    } finally {
      await poisonBus.close();
    }
    assert.deepEqual(
      broker.received('audit-events-poison').map((m) => m.messageId),
      ['poison-2'],
    );
  });

  it('records batched sends one message at a time (fake broker self-check)', async () => {
    const sender = client.createSender('batch-check');
    try {
      const batch = await sender.createMessageBatch();
      assert.ok(batch.tryAddMessage({ body: { n: 1 }, messageId: 'b-1' }));
      assert.ok(batch.tryAddMessage({ body: { n: 2 }, messageId: 'b-2', sessionId: 's' }));
      await sender.sendMessages(batch);
    } finally {
      await sender.close();
    }
    assert.deepEqual(broker.received('batch-check'), [
      { body: { n: 1 }, messageId: 'b-1' },
      { body: { n: 2 }, messageId: 'b-2', sessionId: 's' },
    ]);
  });

  it('estimates every message at or above the bytes the SDK encodes it to, and less than 160 bytes above', async () => {
    const long = 'é'.repeat(200);
    const messages: OutgoingMessage[] = [
      { messageId: 'bare', body: { a: 1 }, contentType: 'application/json' },
      changeRequestMessage(Destination.endpointCreate),
      {
        messageId: 'long',
        body: long,
        contentType: 'application/json',
        subject: long,
        correlationId: long,
        sessionId: 's',
        properties: { [long]: long, n: 2 ** 40, f: 1.5, t: true },
      },
      deadLetterMessage(
        {
          reason: 'invalid_message',
          description: 'd',
          errors: [{ pointer: '#/a', detail: 'x' }],
          original: 'o',
          messageId: 'dead',
        },
        ServiceBusRules,
      ),
      messageEstimatedAt(ServiceBusRules.maxMessageBytes),
    ];
    const sizing = createServiceBusMessageBus(client, { ...entities, auditEvents: 'size-check' });
    try {
      for (const message of messages) await sizing.send(Destination.auditEvents, message);
    } finally {
      await sizing.close();
    }

    // Bytes on the wire as @azure/service-bus 7.9.5 encodes them, then ServiceBusRules' estimates: the
    // allowance for the widest encodings and a tracing property keeps each estimate 117 to 149 bytes over.
    assert.deepEqual(broker.receivedBytes('size-check'), [69, 512, 2131, 278, 262_027]);
    assert.deepEqual(
      messages.map((message) => ServiceBusRules.sizeOf(message)),
      [189, 661, 2255, 402, 262_144],
    );
  });

  it('lets the SDK send a single oversized message unchecked, which the broker refuses (SDK self-check)', async () => {
    const sender = client.createSender('oversized-check');
    try {
      await assert.rejects(sender.sendMessages({ body: 'x'.repeat(300 * 1024) }), (error: unknown) => {
        assert.deepEqual([(error as Error).name, (error as { code?: string }).code], ['ServiceBusError', 'MessageSizeExceeded']);
        assert.match(
          (error as Error).message,
          /^The received message \(delivery-id:\d+, size:307\d{3} bytes\) exceeds the limit \(262144 bytes\) currently allowed on the link\.$/,
        );
        return true;
      });
    } finally {
      await sender.close();
    }
    assert.deepEqual(broker.received('oversized-check'), []);
  });

  it('turns a size refusal by the broker into TooLargeError, keeping the cause', async () => {
    const small = await startFakeServiceBusBroker({ maxMessageBytes: 1024 });
    const smallClient = new ServiceBusClient(small.connectionString, clientOptions);
    const smallBus = createServiceBusMessageBus(smallClient, entities);
    try {
      await assert.rejects(
        smallBus.send(Destination.endpointCreate, { messageId: 'm', body: 'x'.repeat(2048), contentType: 'application/json' }),
        (error: unknown) => {
          assert.ok(error instanceof TooLargeError, `expected TooLargeError, got ${String(error)}`);
          assert.deepEqual(
            [error.code, error.message],
            ['message_too_large', "service bus entity 'endpoint-create' refused the message as too large"],
          );
          assert.equal((error.cause as { code?: string }).code, 'MessageSizeExceeded');
          return true;
        },
      );
      assert.deepEqual(small.received(entities.endpointCreate), []);
    } finally {
      await smallBus.close();
      await smallClient.close();
      await small.close();
    }
  });

  it('checks reachability by opening each destination link, answering from the open link afterwards, and fails once the broker is gone', async () => {
    const doomed = await startFakeServiceBusBroker();
    const doomedClient = new ServiceBusClient(doomed.connectionString, { retryOptions: { maxRetries: 0, timeoutInMs: 1000 } });
    const doomedBus = createServiceBusMessageBus(doomedClient, entities);
    try {
      await doomedBus.checkReachable(AbortSignal.timeout(5000));
      assert.deepEqual(
        Object.values(entities).map((entity) => doomed.received(entity)),
        [[], [], []],
        'nothing sent',
      );

      await doomed.close();

      // The client learns of the dropped connection asynchronously; from then on the check reopens the link and fails.
      const deadline = Date.now() + 5000;
      let outcome: unknown = 'still reachable';
      while (outcome === 'still reachable' && Date.now() < deadline) {
        outcome = await doomedBus.checkReachable(AbortSignal.timeout(2000)).then(
          () => new Promise((resolve) => setTimeout(() => resolve('still reachable'), 50)),
          (error: unknown) => error,
        );
      }
      assert.ok(outcome instanceof UnavailableError, `expected UnavailableError, got ${String(outcome)}`);
      assert.ok(outcome.cause instanceof Error);
    } finally {
      await doomedBus.close();
      await doomedClient.close();
    }
  });

  it('rejects with UnavailableError, keeping the cause, once the broker is gone', async () => {
    const doomed = await startFakeServiceBusBroker();
    const doomedClient = new ServiceBusClient(doomed.connectionString, { retryOptions: { maxRetries: 0, timeoutInMs: 1000 } });
    const doomedBus = createServiceBusMessageBus(doomedClient, entities);
    try {
      // Connect first, so the cached sender is the one that meets the dead broker.
      await doomedBus.send(Destination.auditEvents, changeRequestMessage(Destination.auditEvents));
      await doomed.close();
      await assert.rejects(doomedBus.send(Destination.auditEvents, changeRequestMessage(Destination.auditEvents)), (error: unknown) => {
        assert.ok(error instanceof UnavailableError, `expected UnavailableError, got ${String(error)}`);
        assert.ok(error.cause instanceof Error);
        return true;
      });
    } finally {
      await doomedBus.close();
      await doomedClient.close();
    }
  });
});
