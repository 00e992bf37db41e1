import type { QueueClient } from '@azure/storage-queue';
import { ErrorCode, UnavailableError } from '../../domain/errors';
import type { DeadLetter, Destination, MessageBus, OutgoingMessage } from '../../application/ports/messageBus';
import { isAbort, isStorageOutage, statusOf } from '../azureErrors';
import { deadLetterMessage, encodeQueueMessage, refuseIfOverLimit, StorageQueueRules } from '../transportRules';
import { queueSent } from './queueSends';

/** The slice of QueueClient this adapter uses. */
export type SendingQueueClient = Pick<QueueClient, 'sendMessage' | 'createIfNotExists' | 'getProperties' | 'name'>;

/**
 * MessageBus on Azure Storage queues (Azurite locally). A Storage queue message is text only, so
 * the body carries everything: the change-request envelope, or a structured CloudEvent.
 * Queues are created on first use. The transport's rules (size limit, poison queue) are StorageQueueRules.
 */
export class StorageQueueMessageBus implements MessageBus {
  private readonly ready = new Map<string, Promise<unknown>>();

  constructor(
    private readonly queueFor: (name: string) => SendingQueueClient,
    private readonly queueNames: Record<Destination, string>,
  ) {}

  send(destination: Destination, message: OutgoingMessage): Promise<void> {
    return this.sendTo(this.queueNames[destination], message);
  }

  deadLetter(source: Destination, letter: DeadLetter): Promise<void> {
    return this.sendTo(`${this.queueNames[source]}${StorageQueueRules.deadLetterSuffix}`, deadLetterMessage(letter, StorageQueueRules));
  }

  /**
   * Reads each destination queue's properties: one small GET per queue, nothing written. A queue
   * that does not exist yet is reachable (the first send creates it); any other refusal (an outage,
   * a 403 for a missing role assignment) means sends would fail too, so it is unavailable.
   */
  async checkReachable(signal: AbortSignal): Promise<void> {
    await Promise.all(Object.values(this.queueNames).map((name) => this.checkQueue(name, signal)));
  }

  private async checkQueue(queueName: string, signal: AbortSignal): Promise<void> {
    try {
      await this.queueFor(queueName).getProperties({ abortSignal: signal });
    } catch (error) {
      if (statusOf(error) === 404) return;
      if (isStorageOutage(error) || statusOf(error) !== undefined || isAbort(error))
        throw new UnavailableError(ErrorCode.serviceUnavailable, `queue ${queueName} is unavailable`, { cause: error });
      throw error;
    }
  }

  private async sendTo(queueName: string, message: OutgoingMessage): Promise<void> {
    // The text sent is what the limit counts (StorageQueueRules.sizeOf): encoded once, measured, sent.
    const text = encodeQueueMessage(message.body);
    refuseIfOverLimit(StorageQueueRules, text.length);
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
      queueSent(queueName);
    } catch (error) {
      if (isStorageOutage(error))
        throw new UnavailableError(ErrorCode.serviceUnavailable, `queue ${queueName} is unavailable`, { cause: error });
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
