/**
 * Tells whoever in this process polls a Storage queue that this process has just sent to it. The
 * local Functions host listens (shared/local/storageQueueTriggers.ts): a poller backing off on an
 * empty queue polls it at once, as the Functions host's queue listener does when a function's queue
 * output binding adds a message (the WebJobs SDK's SharedQueueWatcher). In Azure nothing listens,
 * and the host's listener finds the message at its next poll.
 */
type QueueSendListener = (queueName: string) => void;

const listeners = new Set<QueueSendListener>();

/** Calls `listener` with a queue's name after each send to it; returns what stops it. */
export function onQueueSend(listener: QueueSendListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Says that a message was sent to `queueName`. */
export function queueSent(queueName: string): void {
  for (const listener of listeners) listener(queueName);
}
