import type { DequeuedMessageItem } from '@azure/storage-queue';
import type { HostLog } from './invocationContext';

const DEFAULT_MESSAGE_LEASE_SECONDS = 30;
/** Azure Storage refuses a visibility timeout over seven days. */
const MAX_MESSAGE_LEASE_SECONDS = 7 * 24 * 3600;

/** The one call a lease makes on its queue: QueueClient.updateMessage, narrowed to what renewal passes. */
export interface RenewableQueue {
  updateMessage(messageId: string, popReceipt: string, message: undefined, visibilityTimeout: number): Promise<{ popReceipt?: string }>;
}

/** A lease being renewed; `stop()` ends the renewals and yields the newest pop receipt, for settling the message. */
export interface MessageLease {
  stop(): Promise<string>;
}

/** The lease length in seconds: the option given, else 30; throws when it is not one Azure Storage accepts. */
export function resolveMessageLeaseSeconds(option: number | undefined): number {
  const seconds = option ?? DEFAULT_MESSAGE_LEASE_SECONDS;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_MESSAGE_LEASE_SECONDS) {
    throw new Error(`messageLeaseSeconds must be a whole number from 1 to ${MAX_MESSAGE_LEASE_SECONDS}, not ${option}`);
  }
  return seconds;
}

/**
 * Keeps a received message invisible while its function runs, renewing the lease at half its
 * length as the Functions host does, so a long run is not handed to another worker. Each renewal
 * returns a new pop receipt; `stop()` ends the renewals and yields the newest one for settling.
 */
export function keepLeased(
  queue: RenewableQueue,
  message: DequeuedMessageItem,
  leaseSeconds: number,
  functionName: string,
  log: HostLog,
): MessageLease {
  let popReceipt = message.popReceipt;
  let renewal: Promise<void> = Promise.resolve();
  const renew = async () => {
    try {
      const { popReceipt: renewed } = await queue.updateMessage(message.messageId, popReceipt, undefined, leaseSeconds);
      if (renewed) popReceipt = renewed;
    } catch (error) {
      // Not fatal: the next renewal may succeed; if the lease runs out the message is redelivered, at least once as in Azure.
      log(`[${functionName}] could not renew the lease of message ${message.messageId}: ${(error as Error).message}`);
    }
  };
  const timer = setInterval(
    () => {
      renewal = renewal.then(renew);
    },
    (leaseSeconds * 1000) / 2,
  );
  return {
    async stop() {
      clearInterval(timer);
      // A renewal under way would change the pop receipt the settlement needs.
      await renewal;
      return popReceipt;
    },
  };
}
