import type { DequeuedMessageItem } from '@azure/storage-queue';
import { onQueueSend } from '../adapters/storageQueues/queueSends';
import { StorageQueueRules } from '../adapters/transportRules';
import { ConnectionSetting } from '../settings';
import { triggerOf, type Registration } from './functionsRegistry';
import type { HostSettings } from './hostSettings';
import { createInvocationContext, type HostLog } from './invocationContext';
import { keepLeased, type RenewableQueue } from './messageLease';

/** The calls the poller makes on a queue: a structural slice of QueueClient, so a test can fake it. */
export interface TriggerQueue extends RenewableQueue {
  readonly name: string;
  createIfNotExists(): Promise<unknown>;
  receiveMessages(options: {
    numberOfMessages: number;
    visibilityTimeout: number;
  }): Promise<{ receivedMessageItems: DequeuedMessageItem[] }>;
  deleteMessage(messageId: string, popReceipt: string): Promise<unknown>;
  sendMessage(messageText: string): Promise<unknown>;
}

/** A storage account's queues as the poller reaches them: a structural slice of QueueServiceClient. */
export interface TriggerQueueService {
  getQueueClient(queueName: string): TriggerQueue;
}

/**
 * Gives the queue service a binding's `connection` names: the app setting holding a connection
 * string, or the prefix of an identity-based connection's `<prefix>__…` settings. The composition
 * root builds the real client; it throws, naming the settings, when the connection is not configured.
 */
export type QueueServiceFactory = (connectionSetting: string) => TriggerQueueService;

/** What the poller needs: the queue-trigger registrations, host.json's queue settings, and where to reach storage. */
export interface StorageQueueTriggerOptions {
  registrations: Registration[];
  settings: HostSettings['queues'];
  queueServiceFor: QueueServiceFactory;
  /** Seconds a received message stays invisible, renewed at half that while its function runs. */
  messageLeaseSeconds: number;
  log: HostLog;
}

/** A trigger's queue and the `<queue>-poison` queue its failed messages end in. */
interface MessageQueues {
  queue: TriggerQueue;
  poison: TriggerQueue;
}

const MIN_POLL_MS = 50;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The trigger payload as the Functions host gives it. With `messageEncoding: base64` the host decodes
 * first, and a message that is not base64 never reaches the function (the queues extension 5.x
 * poisons it after maxDequeueCount failed bindings); with `none` the text is handed over unchanged.
 * Either way the Node worker then parses it as JSON if it parses (@azure/functions' tryJsonParse),
 * else passes the string.
 */
function decodeMessage(text: string, encoding: HostSettings['queues']['messageEncoding']): unknown {
  let decoded = text;
  if (encoding === 'base64') {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0)
      throw new Error('the message is not base64 (host.json messageEncoding is base64)');
    decoded = Buffer.from(text, 'base64').toString('utf8');
  }
  try {
    return JSON.parse(decoded);
  } catch {
    return decoded;
  }
}

/**
 * This process's sends to one queue (queueSends.ts), for its poller: a send ends the poller's
 * back-off on the empty queue at once, as the Functions host's listener polls at once when a
 * function's output binding adds a message. A send made while a poll was in flight is kept, so the
 * back-off after that poll (which may have missed it) does not start.
 */
function watchSends(queueName: string): { polling(): void; idle(ms: number): Promise<boolean>; stop(): void } {
  let sentSincePoll = false;
  let wake: (() => void) | undefined;
  const stop = onQueueSend((sentTo) => {
    if (sentTo !== queueName) return;
    sentSincePoll = true;
    wake?.();
  });
  return {
    polling: () => {
      sentSincePoll = false;
    },
    /** Waits `ms`, or less if a send comes (or came since the poll began); resolves whether one did. */
    idle: (ms) =>
      sentSincePoll
        ? Promise.resolve(true)
        : new Promise((resolve) => {
            const timer = setTimeout(() => {
              wake = undefined;
              resolve(false);
            }, ms);
            wake = () => {
              clearTimeout(timer);
              wake = undefined;
              resolve(true);
            };
          }),
    stop,
  };
}

/**
 * Drives Storage-queue triggers with the Functions host's semantics read from host.json: batches,
 * base64 decoding, dequeue count, a lease renewed while the function runs, visibility timeout
 * between retries, and `<queue>-poison` after maxDequeueCount (on the last failure, or on receipt
 * when a message's runs died with their worker).
 */
export class StorageQueueTriggers {
  private stopping = false;
  private readonly pollers: Array<Promise<void>> = [];

  /** Takes the triggers to drive; nothing is polled until `start()`. */
  constructor(private readonly options: StorageQueueTriggerOptions) {}

  /**
   * Starts one polling loop per queue trigger. Every trigger's queues are resolved first, so a
   * connection setting that is not set stops start-up with its name rather than a poller later.
   */
  start(): void {
    const triggers = this.options.registrations.map((registration) => ({ registration, queues: this.queuesOf(registration) }));
    for (const { registration, queues } of triggers) this.pollers.push(this.poll(registration, queues));
  }

  /** Receives no more messages and waits for the functions running on those received. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled(this.pollers);
  }

  private queuesOf(registration: Registration): MessageQueues {
    const trigger = triggerOf(registration);
    const settingName = trigger.connection ?? ConnectionSetting.storage;
    let service: TriggerQueueService;
    try {
      service = this.options.queueServiceFor(settingName);
    } catch (error) {
      throw new Error(`function ${registration.name}: ${(error as Error).message}`, { cause: error });
    }
    const queueName = String(trigger.queueName);
    return {
      queue: service.getQueueClient(queueName),
      poison: service.getQueueClient(`${queueName}${StorageQueueRules.deadLetterSuffix}`),
    };
  }

  /** One polling loop per queue trigger, backing off exponentially while the queue is empty. */
  private async poll(registration: Registration, queues: MessageQueues): Promise<void> {
    const settings = this.options.settings;
    let idleMs = MIN_POLL_MS;
    let ready = false;
    const running = new Set<Promise<void>>();
    const sends = watchSends(queues.queue.name);
    while (!this.stopping) {
      try {
        if (!ready) {
          await queues.queue.createIfNotExists();
          ready = true;
        }
        const capacity = settings.batchSize + settings.newBatchThreshold - running.size;
        if (running.size > settings.newBatchThreshold || capacity <= 0) {
          await Promise.race(running);
          continue;
        }
        sends.polling();
        const { receivedMessageItems: messages } = await queues.queue.receiveMessages({
          numberOfMessages: Math.min(settings.batchSize, capacity),
          visibilityTimeout: this.options.messageLeaseSeconds,
        });
        if (messages.length === 0) {
          const woken = await sends.idle(idleMs);
          idleMs = woken ? MIN_POLL_MS : Math.min(idleMs * 2, settings.maxPollingIntervalMs);
          continue;
        }
        idleMs = MIN_POLL_MS;
        for (const message of messages) {
          const work = this.processMessage(registration, queues, message).finally(() => running.delete(work));
          running.add(work);
        }
      } catch (error) {
        // Storage unreachable (Azurite restarting): keep polling, slowly; messages are safe in the queue.
        this.options.log(`[${registration.name}] queue poll failed: ${(error as Error).message}`);
        ready = false;
        await sleep(Math.min(idleMs * 4, settings.maxPollingIntervalMs));
      }
    }
    sends.stop();
    await Promise.allSettled(running);
  }

  private async processMessage(registration: Registration, queues: MessageQueues, message: DequeuedMessageItem): Promise<void> {
    if (message.dequeueCount > this.options.settings.maxDequeueCount) return this.poisonWithoutRunning(registration, queues, message);
    const lease = keepLeased(queues.queue, message, this.options.messageLeaseSeconds, registration.name, this.options.log);
    const failure = await this.invoke(registration, message);
    const popReceipt = await lease.stop();
    if (!failure) {
      await this.settle(registration, message, () => queues.queue.deleteMessage(message.messageId, popReceipt));
      return;
    }
    await this.settleFailure(registration, queues, message, popReceipt, failure.error);
  }

  private async poisonWithoutRunning(registration: Registration, queues: MessageQueues, message: DequeuedMessageItem): Promise<void> {
    const { maxDequeueCount } = this.options.settings;
    // The WebJobs SDK's QueueProcessor.BeginProcessingMessageAsync does this: past the limit, the
    // message's earlier runs died with their worker before the failure path could poison it.
    if (await this.settle(registration, message, () => this.moveToPoison(queues, message, message.popReceipt))) {
      this.options.log(
        `[${registration.name}] message ${message.messageId} moved to ${queues.poison.name} without running: dequeued ${message.dequeueCount} times, over maxDequeueCount ${maxDequeueCount}`,
      );
    }
  }

  /** After a failed run: poison the message on its last allowed dequeue, else make it visible again after the retry delay. */
  private async settleFailure(
    registration: Registration,
    queues: MessageQueues,
    message: DequeuedMessageItem,
    popReceipt: string,
    error: unknown,
  ): Promise<void> {
    const { maxDequeueCount, visibilityTimeoutMs } = this.options.settings;
    this.options.log(
      `[${registration.name}] message ${message.messageId} failed on dequeue ${message.dequeueCount}: ${(error as Error)?.message ?? error}`,
    );
    if (message.dequeueCount >= maxDequeueCount) {
      if (await this.settle(registration, message, () => this.moveToPoison(queues, message, popReceipt))) {
        this.options.log(
          `[${registration.name}] message ${message.messageId} moved to ${queues.poison.name} after ${message.dequeueCount} attempts`,
        );
      }
    } else {
      const retryAfterSeconds = Math.ceil(visibilityTimeoutMs / 1000);
      await this.settle(registration, message, () =>
        queues.queue.updateMessage(message.messageId, popReceipt, undefined, retryAfterSeconds),
      );
    }
  }

  /** Runs the function; resolves with its failure, or undefined when it succeeded. */
  private async invoke(registration: Registration, message: DequeuedMessageItem): Promise<{ error: unknown } | undefined> {
    const context = createInvocationContext(registration, this.options.log, {
      id: message.messageId,
      dequeueCount: message.dequeueCount,
      insertionTime: message.insertedOn,
      expirationTime: message.expiresOn,
      nextVisibleTime: message.nextVisibleOn,
      popReceipt: message.popReceipt,
      queueTrigger: message.messageText,
    });
    try {
      // A message that does not decode fails like a function that throws: retried, then poisoned.
      await registration.handler(decodeMessage(message.messageText, this.options.settings.messageEncoding), context);
      return undefined;
    } catch (error) {
      return { error };
    }
  }

  private async moveToPoison(queues: MessageQueues, message: DequeuedMessageItem, popReceipt: string): Promise<void> {
    await queues.poison.createIfNotExists();
    await queues.poison.sendMessage(message.messageText);
    await queues.queue.deleteMessage(message.messageId, popReceipt);
  }

  /** Deletes, releases or poisons a message; resolves false, having logged why, when storage refused. */
  private async settle(registration: Registration, message: DequeuedMessageItem, settlement: () => Promise<unknown>): Promise<boolean> {
    try {
      await settlement();
      return true;
    } catch (error) {
      // The lease runs out and the message comes back: at-least-once, as in Azure.
      this.options.log(`[${registration.name}] could not settle message ${message.messageId}: ${(error as Error).message}`);
      return false;
    }
  }
}
