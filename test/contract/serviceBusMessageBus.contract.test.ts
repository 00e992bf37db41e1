import { after, before, describe } from 'node:test';
import { ServiceBusClient } from '@azure/service-bus';
import type { DeliveredMessage } from '../../shared/adapters/memory/InMemoryMessageBus';
import { createServiceBusMessageBus, type ServiceBusEntities } from '../../shared/adapters/serviceBus/ServiceBusMessageBus';
import { ServiceBusRules } from '../../shared/adapters/transportRules';
import type { Destination } from '../../shared/application/ports/messageBus';
import { startFakeServiceBusBroker, type FakeServiceBusBroker, type ReceivedMessage } from '../support/fakeServiceBusBroker';
import { freePort } from '../support/freePort';
import { describeMessageBusContract, type MessageBusSubject } from './messageBus.contract';

// No retries and a short try timeout, so a failure shows up as a failure instead of a slow test.
const clientOptions = { retryOptions: { maxRetries: 0, timeoutInMs: 5000 } };

let broker: FakeServiceBusBroker;
let client: ServiceBusClient;
let subjects = 0;

/** Entity names of their own for one subject: the fake broker keeps what each address received. */
function entityNames(): Record<Destination, string> {
  const prefix = `c${++subjects}`;
  return {
    endpointCreate: `${prefix}-endpoint-create`,
    endpointDelete: `${prefix}-endpoint-delete`,
    auditEvents: `${prefix}-audit-events`,
  };
}

/** A received message in the port's field names (application properties are the port's `properties`). */
function delivered({ applicationProperties, ...fields }: ReceivedMessage): DeliveredMessage {
  return applicationProperties === undefined ? fields : { ...fields, properties: applicationProperties as DeliveredMessage['properties'] };
}

async function serviceBusSubject(): Promise<MessageBusSubject> {
  const entities: ServiceBusEntities = entityNames();
  const bus = createServiceBusMessageBus(client, entities);
  const opened: Array<{ close(): Promise<void> }> = [bus];
  return {
    bus,
    rules: ServiceBusRules,
    queues: entities,
    read: async (queue) => broker.received(queue).map(delivered),
    unreachable: async () => {
      // A loopback port nothing listens on: the SDK's connect is refused.
      const nowhere = new ServiceBusClient(
        `Endpoint=sb://127.0.0.1:${await freePort()};SharedAccessKeyName=fake;SharedAccessKey=fake;UseDevelopmentEmulator=true;`,
        clientOptions,
      );
      const unreachable = createServiceBusMessageBus(nowhere, entities);
      opened.push(unreachable, nowhere);
      return unreachable;
    },
    close: async () => {
      for (const resource of opened) await resource.close();
    },
  };
}

describe('ServiceBusMessageBus against the fake AMQP peer', () => {
  before(async () => {
    broker = await startFakeServiceBusBroker();
    client = new ServiceBusClient(broker.connectionString, clientOptions);
  });
  after(async () => {
    await client?.close();
    await broker?.close();
  });

  describeMessageBusContract('keeps the MessageBus contract', serviceBusSubject);
});
