import { describe } from 'node:test';
import { InMemoryMessageBus } from '../../shared/adapters/memory/InMemoryMessageBus';
import { ServiceBusRules, StorageQueueRules, type TransportRules } from '../../shared/adapters/transportRules';
import type { Destination } from '../../shared/application/ports/messageBus';
import { describeMessageBusContract, type MessageBusSubject } from './messageBus.contract';

const queues: Record<Destination, string> = {
  endpointCreate: 'endpoint-create',
  endpointDelete: 'endpoint-delete',
  auditEvents: 'audit-events',
};

/** An in-memory bus standing in for the transport of `rules`; no network. */
function inMemorySubject(rules: TransportRules): MessageBusSubject {
  const bus = new InMemoryMessageBus(rules, queues);
  return {
    bus,
    rules,
    queues,
    read: async (queue) => bus.received(queue),
    unreachable: async () => {
      const down = new InMemoryMessageBus(rules, queues);
      down.failNext();
      return down;
    },
    close: async () => undefined,
  };
}

describe('InMemoryMessageBus', () => {
  describeMessageBusContract('standing in for Storage queues keeps the MessageBus contract', async () =>
    inMemorySubject(StorageQueueRules),
  );
  describeMessageBusContract('standing in for Service Bus keeps the MessageBus contract', async () => inMemorySubject(ServiceBusRules));
});
