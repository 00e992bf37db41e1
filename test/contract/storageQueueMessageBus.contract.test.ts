import { after, before, describe } from 'node:test';
import { QueueServiceClient } from '@azure/storage-queue';
import type { DeliveredMessage } from '../../shared/adapters/memory/InMemoryMessageBus';
import { StorageQueueMessageBus } from '../../shared/adapters/storageQueues/StorageQueueMessageBus';
import { StorageQueueRules } from '../../shared/adapters/transportRules';
import type { Destination } from '../../shared/application/ports/messageBus';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { uniqueQueueNames } from '../support/builders';
import { freePort } from '../support/freePort';
import { describeMessageBusContract, type MessageBusSubject } from './messageBus.contract';

let azurite: TestAzurite;
let service: QueueServiceClient;

/** What a queue trigger would receive: every message's body, decoded from base64 JSON (peeked, not dequeued). */
async function read(queueName: string): Promise<DeliveredMessage[]> {
  const queue = service.getQueueClient(queueName);
  if (!(await queue.exists())) return [];
  const { peekedMessageItems } = await queue.peekMessages({ numberOfMessages: 32 });
  return peekedMessageItems.map((item) => ({ body: JSON.parse(Buffer.from(item.messageText, 'base64').toString('utf8')) as unknown }));
}

/** A bus whose queue endpoint is a loopback port nothing listens on, trying once. */
async function unreachableBus(queues: Record<Destination, string>): Promise<StorageQueueMessageBus> {
  const port = await freePort();
  const connection = azurite.connectionString.replace(/QueueEndpoint=http:\/\/127\.0\.0\.1:\d+/, `QueueEndpoint=http://127.0.0.1:${port}`);
  const unreachable = QueueServiceClient.fromConnectionString(connection, { retryOptions: { maxTries: 1 } });
  return new StorageQueueMessageBus((name) => unreachable.getQueueClient(name), queues);
}

async function storageQueueSubject(): Promise<MessageBusSubject> {
  const queues = uniqueQueueNames();
  return {
    bus: new StorageQueueMessageBus((name) => service.getQueueClient(name), queues),
    rules: StorageQueueRules,
    queues,
    read,
    unreachable: () => unreachableBus(queues),
    close: async () => undefined,
  };
}

describe('StorageQueueMessageBus on Azurite', () => {
  before(async () => {
    azurite = await startTestAzurite();
    service = QueueServiceClient.fromConnectionString(azurite.connectionString);
  });
  after(async () => {
    await azurite?.stop();
  });

  describeMessageBusContract('keeps the MessageBus contract', storageQueueSubject);
});
