import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceBusClient } from '@azure/service-bus';
import { Destination, type DeadLetter, type OutgoingMessage } from '../../shared/application/ports/messageBus';
import { UnavailableError } from '../../shared/domain/errors';
import {
  createServiceBusMessageBus, type ClosableMessageBus, type ServiceBusEntities,
} from '../../shared/adapters/serviceBus/ServiceBusMessageBus';
import { startFakeServiceBusBroker, type FakeServiceBusBroker } from '../support/fakeServiceBusBroker';

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

  for (const destination of Object.values(Destination)) {
    it(`sends to ${destination} with its body and all metadata`, async () => {
      const message = changeRequestMessage(destination);
      await bus.send(destination, message);

      assert.deepEqual(broker.received(entities[destination]), [
        {
          body: message.body,
          messageId: message.messageId,
          subject: message.subject,
          correlationId: message.correlationId,
          sessionId: message.sessionId,
          contentType: 'application/json',
          applicationProperties: message.properties,
        },
      ]);
    });
  }

  it('leaves unset optional fields off the wire', async () => {
    await bus.send(Destination.endpointDelete, { messageId: 'bare-1', body: { operation: 'delete' }, contentType: 'application/json' });

    const bare = broker.received(entities.endpointDelete).find((m) => m.messageId === 'bare-1');
    assert.deepEqual(bare, { body: { operation: 'delete' }, messageId: 'bare-1', contentType: 'application/json' });
  });

  it('sends a dead letter to <source queue>-invalid with the reason in DLQ-style properties', async () => {
    const letter: DeadLetter = {
      reason: 'invalid_message',
      description: 'sipAddress: must be a SIP address',
      errors: [{ pointer: '#/sipAddress', detail: 'must be a SIP address', location: 'message' }],
      original: '{"operation":"create","sipAddress":"nope"}',
      messageId: 'poison-1',
    };
    await bus.deadLetter(Destination.endpointCreate, letter);

    assert.deepEqual(broker.received('endpoint-create-invalid'), [
      {
        body: letter,
        messageId: 'poison-1',
        subject: 'invalid_message',
        contentType: 'application/json',
        applicationProperties: { DeadLetterReason: 'invalid_message', DeadLetterErrorDescription: 'sipAddress: must be a SIP address' },
      },
    ]);
  });

  it('names the dead-letter queue with a configured suffix', async () => {
    const poisonBus = createServiceBusMessageBus(client, { ...entities, deadLetterSuffix: '-poison' });
    try {
      await poisonBus.deadLetter(Destination.auditEvents, { reason: 'r', description: 'd', original: null, messageId: 'poison-2' });
    } finally {
      await poisonBus.close();
    }
    assert.deepEqual(broker.received('audit-events-poison').map((m) => m.messageId), ['poison-2']);
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
