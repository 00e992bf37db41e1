import type { QueueClient } from '@azure/storage-queue';
import { TooLargeError, UnavailableError } from '../../domain/errors';
import type { DeadLetter, Destination, MessageBus, OutgoingMessage } from '../../application/ports/messageBus';
import { isStorageOutage, statusOf } from '../azureErrors';

/** The slice of QueueClient this adapter uses. */
export type SendingQueueClient = Pick<QueueClient, 'sendMessage' | 'createIfNotExists' | 'name'>;

/** Storage queues cap a message at 64 KiB of (base64) text. */
const MAX_MESSAGE_BYTES = 64 * 1024;

/** The suffix of the queue where the Functions host (and this adapter) set poison messages aside. */
export const POISON_SUFFIX = '-poison';

/** Base64 of the JSON body: the Functions queue trigger's default `messageEncoding`. */
export function encodeQueueMessage(body: unknown): string {
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64');
}

/**
 * MessageBus on Azure Storage queues (Azurite locally). A Storage queue message is text only, so
 * the body carries everything: the change-request envelope, or a structured CloudEvent.
 * Queues are created on first use.
 */
export class StorageQueueMessageBus implements MessageBus {
  private readonly ready = new Map<string, Promise<unknown>>();

  constructor(private readonly queueFor: (name: string) => SendingQueueClient, private readonly queueNames: Record<Destination, string>) {}

  send(destination: Destination, message: OutgoingMessage): Promise<void> {
    return this.sendTo(this.queueNames[destination], message.body);
  }

  deadLetter(source: Destination, letter: DeadLetter): Promise<void> {
    return this.sendTo(`${this.queueNames[source]}${POISON_SUFFIX}`, letter);
  }

  private async sendTo(queueName: string, body: unknown): Promise<void> {
    const text = encodeQueueMessage(body);
    if (text.length > MAX_MESSAGE_BYTES) {
      throw new TooLargeError('message_too_large', `a ${text.length}-byte message exceeds the ${MAX_MESSAGE_BYTES}-byte Storage queue limit`);
    }
    const queue = this.queueFor(queueName);
    try {
      await this.ensureQueue(queue);
      await queue.sendMessage(text).catch(async (error: unknown) => {
        // The queue was deleted since this process created it: create it again, once.
        if (statusOf(error) !== 404) throw error;
        this.ready.delete(queue.name);
        await this.ensureQueue(queue);
        await queue.sendMessage(text);
      });
    } catch (error) {
      if (isStorageOutage(error)) throw new UnavailableError('service_unavailable', `queue ${queueName} is unavailable`, { cause: error });
      throw error;
    }
  }

  /** Creates the queue on its first use in this process. */
  private ensureQueue(queue: SendingQueueClient): Promise<unknown> {
    let created = this.ready.get(queue.name);
    if (!created) {
      created = queue.createIfNotExists();
      this.ready.set(queue.name, created);
      created.catch(() => this.ready.delete(queue.name));
    }
    return created;
  }
}
