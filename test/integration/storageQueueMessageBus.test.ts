import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { QueueServiceClient } from '@azure/storage-queue';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { uniqueQueueNames } from '../support/builders';
import { StorageQueueMessageBus } from '../../shared/adapters/storageQueues/StorageQueueMessageBus';
import type { Destination, OutgoingMessage } from '../../shared/application/ports/messageBus';

// What every adapter must do (delivery, dead letters, size limit, outages) is the MessageBus contract in
// test/contract; this file covers what is particular to Storage queues: the encoding and queue creation.

let azurite: TestAzurite;
let service: QueueServiceClient;

function busFor(names: Record<Destination, string>): StorageQueueMessageBus {
  return new StorageQueueMessageBus((name) => service.getQueueClient(name), names);
}

function outgoing(body: unknown): OutgoingMessage {
  return {
    messageId: '0190c0de-0000-7000-8000-000000000001',
    body,
    contentType: 'application/json',
    subject: 'sip:chat@contoso.com',
    correlationId: 'corr-1',
  };
}

/** The raw text of every message in a queue, without dequeuing. */
async function messageTexts(queueName: string): Promise<string[]> {
  const peeked = await service.getQueueClient(queueName).peekMessages({ numberOfMessages: 32 });
  return peeked.peekedMessageItems.map((item) => item.messageText);
}

const base64Json = (body: unknown): string => Buffer.from(JSON.stringify(body), 'utf8').toString('base64');
const exists = (queueName: string) => service.getQueueClient(queueName).exists();

describe('StorageQueueMessageBus on Azurite', () => {
  before(async () => {
    azurite = await startTestAzurite();
    service = QueueServiceClient.fromConnectionString(azurite.connectionString);
  });
  after(async () => {
    await azurite?.stop();
  });

  it("creates only the destination's queue and enqueues base64 of the body's UTF-8 JSON, as the queue trigger decodes it", async () => {
    const names = uniqueQueueNames();
    const body = { displayName: 'Salle de réunion — 会议室 ✓', nested: { list: [1, 'two', null, true, { deep: 2.5 }] } };
    assert.equal(await exists(names.endpointDelete), false);

    await busFor(names).send('endpointDelete', outgoing(body));

    assert.deepEqual(await messageTexts(names.endpointDelete), [base64Json(body)]);
    assert.deepEqual([await exists(names.endpointCreate), await exists(names.auditEvents)], [false, false]);
  });

  it('sends to a queue that already existed', async () => {
    const names = uniqueQueueNames();
    await service.createQueue(names.auditEvents);

    await busFor(names).send('auditEvents', outgoing({ n: 1 }));

    assert.deepEqual(await messageTexts(names.auditEvents), [base64Json({ n: 1 })]);
  });

  it('counts its limit in base64 text: a message at the limit is 65,536 characters in the queue, one over creates no queue', async () => {
    const names = uniqueQueueNames();
    const bus = busFor(names);
    // {"pad":"…"} is the padding plus 10 characters; 49,152 bytes of JSON are 65,536 characters of base64.
    await bus.send('endpointCreate', outgoing({ pad: 'x'.repeat(49_152 - 10) }));
    await assert.rejects(
      bus.send('endpointDelete', outgoing({ pad: 'x'.repeat(49_152 - 10 + 1) })),
      /^TooLargeError: a 65540-byte message exceeds the 65536-byte Storage queue limit$/,
    );

    assert.deepEqual(
      (await messageTexts(names.endpointCreate)).map((text) => text.length),
      [65_536],
    );
    assert.deepEqual([await exists(names.endpointDelete), await exists(`${names.endpointDelete}-poison`)], [false, false]);
  });
});
