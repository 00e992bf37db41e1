/**
 * How the service keeps every accepted change request moving toward a final status: when a
 * waiting request's message is sent again, how often, how many deliveries a message gets, and how
 * long an Idempotency-Key recognises a retry.
 */
export interface DeliveryPolicy {
  /** How long an accepted request may wait for its message to be processed before the re-driver sends it again. */
  redriveAfterMs: number;
  /** Sends of one request's message (the first included) before the re-driver settles it as failed. */
  maxSends: number;
  /** Deliveries of one queue message before the transport sets it aside: host.json maxDequeueCount, Service Bus maxDeliveryCount. */
  maxDeliveries: number;
  /** How long an Idempotency-Key answers retries with the original result. */
  idempotencyKeyTtlMs: number;
}

/** The defaults, documented in the README's configuration table. */
export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = {
  redriveAfterMs: 30_000,
  maxSends: 5,
  maxDeliveries: 5,
  idempotencyKeyTtlMs: 24 * 60 * 60 * 1000,
};

/** The wait between re-sends doubles up to this many times (16 × redriveAfter), then stays there. */
const MAX_DOUBLINGS = 4;

/**
 * When a waiting request is re-sent next: the wait doubles with each send (up to 16 × redriveAfter),
 * so a request held up by a long backlog is not failed early, and one whose messages keep vanishing
 * is failed after about redriveAfter × (2^maxSends − 1): some 15 minutes with the defaults.
 */
export function nextRedriveAt(policy: DeliveryPolicy, now: Date, sends: number): Date {
  return new Date(now.getTime() + policy.redriveAfterMs * 2 ** Math.min(MAX_DOUBLINGS, Math.max(0, sends - 1)));
}
