import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { QueueServiceClient } from '@azure/storage-queue';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { POISON_SUFFIX, StorageQueueMessageBus } from '../../shared/adapters/storageQueues/StorageQueueMessageBus';
import { Destination, type DeadLetter, type OutgoingMessage } from '../../shared/application/ports/messageBus';
import { UnavailableError } from '../../shared/domain/errors';

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

let azurite: TestAzurite;
let service: QueueServiceClient;
let queuePrefixCount = 0;

/** Queue names of their own for one test (queue names: lower-case letters, digits and hyphens). */
function queueNames(): Record<Destination, string> {
  const prefix = `t${++queuePrefixCount}`;
  return { endpointCreate: `${prefix}-endpoint-create`, endpointDelete: `${prefix}-endpoint-delete`, auditEvents: `${prefix}-audit-events` };
}

function busFor(names: Record<Destination, string>, queues: QueueServiceClient = service): StorageQueueMessageBus {
  return new StorageQueueMessageBus((name) => queues.getQueueClient(name), names);
}

function outgoing(body: unknown): OutgoingMessage {
  return { messageId: '0190c0de-0000-7000-8000-000000000001', body, contentType: 'application/json', subject: 'sip:chat@contoso.com', correlationId: 'corr-1' };
}

/** A change-request body with some non-ASCII text, so the encoding is really exercised. */
function changeRequestBody(destination: Destination): unknown {
  return {
    schemaVersion: 1, operation: destination === 'endpointDelete' ? 'delete' : 'create', sipAddress: 'sip:chat@contoso.com', poolFqdn: 'pcpool.contoso.com',
    displayName: 'Salle de réunion — 会议室 ✓', changeRequestId: '0190c0de-0000-7000-8000-000000000001', correlationId: 'corr-1', actor: 'alice',
    nested: { list: [1, 'two', null, true, { deep: 2.5 }] },
  };
}

/** The raw text of every message in a queue, without dequeuing. */
async function messageTexts(queueName: string): Promise<string[]> {
  const peeked = await service.getQueueClient(queueName).peekMessages({ numberOfMessages: 32 });
  return peeked.peekedMessageItems.map((item) => item.messageText);
}

const decode = (text: string): unknown => JSON.parse(Buffer.from(text, 'base64').toString('utf8'));
const exists = (queueName: string) => service.getQueueClient(queueName).exists();

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// ---------------------------------------------------------------------------------------------

describe('StorageQueueMessageBus on Azurite', () => {
  before(async () => {
    azurite = await startTestAzurite();
    service = QueueServiceClient.fromConnectionString(azurite.connectionString);
  });
  after(async () => { await azurite?.stop(); });

  for (const destination of Object.values(Destination)) {
    it(`send to ${destination} creates its queue and enqueues base64 JSON of the body`, async () => {
      const names = queueNames();
      const body = changeRequestBody(destination);
      assert.equal(await exists(names[destination]), false);

      await busFor(names).send(destination, outgoing(body));

      const texts = await messageTexts(names[destination]);
      assert.deepEqual(texts, [Buffer.from(JSON.stringify(body), 'utf8').toString('base64')]);
      assert.deepEqual(decode(texts[0] as string), body);
      // Only the destination's queue was created.
      for (const other of Object.values(Destination).filter((d) => d !== destination)) assert.equal(await exists(names[other]), false);
    });
  }

  it('sends several messages to one queue, and to a queue that already existed', async () => {
    const names = queueNames();
    await service.createQueue(names.auditEvents);
    const bus = busFor(names);
    const bodies = [{ n: 1 }, { n: 2 }, { n: 3 }];
    for (const body of bodies) await bus.send('auditEvents', outgoing(body));
    const decoded = (await messageTexts(names.auditEvents)).map(decode) as Array<{ n: number }>;
    assert.deepEqual(decoded.sort((a, b) => a.n - b.n), bodies);
  });

  it('deadLetter puts the letter (reason, description, errors, original) on <queue>-poison', async () => {
    const names = queueNames();
    const letter: DeadLetter = {
      reason: 'invalid_message',
      description: 'SIP address must start with the sip: scheme (sip:user@host)',
      errors: [{ pointer: '#/sipAddress', detail: 'SIP address must start with the sip: scheme (sip:user@host)', location: 'message' }],
      original: '{"schemaVersion":1,"operation":"create","sipAddress":"chat@contoso.com"}',
      messageId: 'queue-message-42',
    };
    await busFor(names).deadLetter('endpointCreate', letter);

    assert.equal(POISON_SUFFIX, '-poison');
    const texts = await messageTexts(`${names.endpointCreate}-poison`);
    assert.equal(texts.length, 1);
    assert.deepEqual(decode(texts[0] as string), letter);
    assert.equal(await exists(names.endpointCreate), false, 'the source queue itself is untouched');
  });

  it('accepts a message of exactly 64 KiB of base64 and refuses one over it, sending nothing', async () => {
    const names = queueNames();
    const bus = busFor(names);
    // {"pad":"…"} is the padding plus 10 characters; 49,152 bytes of JSON are 65,536 characters of base64.
    const atLimit = { pad: 'x'.repeat(49_152 - 10) };
    await bus.send('endpointCreate', outgoing(atLimit));
    const [text] = await messageTexts(names.endpointCreate);
    assert.equal(text?.length, 64 * 1024);
    assert.deepEqual(decode(text as string), atLimit);

    const overLimit = { pad: 'x'.repeat(49_152 - 10 + 1) };
    await assert.rejects(bus.send('endpointDelete', outgoing(overLimit)), /a 65540-byte message exceeds the 65536-byte Storage queue limit/);
    await assert.rejects(bus.deadLetter('endpointDelete', { reason: 'too_big', description: '', original: overLimit, messageId: 'm' }), /exceeds the 65536-byte Storage queue limit/);
    assert.equal(await exists(names.endpointDelete), false);
    assert.equal(await exists(`${names.endpointDelete}-poison`), false);
    assert.equal((await messageTexts(names.endpointCreate)).length, 1);
  });

  it('an unreachable queue service is an UnavailableError', async () => {
    const port = await closedPort();
    const unreachable = QueueServiceClient.fromConnectionString(
      azurite.connectionString.replace(/QueueEndpoint=http:\/\/127\.0\.0\.1:\d+/, `QueueEndpoint=http://127.0.0.1:${port}`),
      { retryOptions: { maxTries: 1 } },
    );
    await assert.rejects(busFor(queueNames(), unreachable).send('endpointCreate', outgoing({ n: 1 })), UnavailableError);
  });
});
