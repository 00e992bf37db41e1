/** Logical destinations; each adapter maps them to its queues or topics. */
export const Destination = {
  endpointCreate: 'endpointCreate',
  endpointDelete: 'endpointDelete',
  auditEvents: 'auditEvents',
} as const;
export type Destination = (typeof Destination)[keyof typeof Destination];

/** A message to send: the body plus the metadata a broker can use for dedupe, ordering and routing. */
export interface OutgoingMessage {
  /** Stable across re-sends, so a broker's duplicate detection and subscribers can drop repeats. */
  messageId: string;
  body: unknown;
  contentType: string;
  subject?: string;
  correlationId?: string;
  /** Messages with one session id are delivered in order (Service Bus sessions). */
  sessionId?: string;
  properties?: Record<string, string | number | boolean>;
}

/** A message that cannot be processed, with the reason it is set aside. */
export interface DeadLetter {
  reason: string;
  description: string;
  errors?: unknown[];
  /** The original message body, exactly as received. */
  original: unknown;
  messageId: string;
}

/**
 * Messaging: the queues for endpoint create / delete requests and the audit-event stream.
 * Adapters: Service Bus (production) and Storage queues (local default, also valid in Azure).
 *
 * There is no batch send, on purpose: every commit writes one audit record and so publishes one
 * event, and the outbox publisher marks each event published right after its own send, so a
 * failure leaves exactly the unsent events behind. Only the re-driver draining a backlog after an
 * outage sends several in a row; a batch would save round trips there alone, and a Storage queue
 * has no batch send to map it to.
 */
export interface MessageBus {
  send(destination: Destination, message: OutgoingMessage): Promise<void>;
  /** Sets a message aside where operators look for poison (a dead-letter or poison queue). */
  deadLetter(source: Destination, letter: DeadLetter): Promise<void>;
  /**
   * Resolves when the transport can be reached for sending, rejects with UnavailableError when it
   * cannot (or when `signal` aborts first). Cheap and without side effects: nothing is sent,
   * nothing is created. Readiness (GET /api/health/ready) asks it on every probe.
   */
  checkReachable(signal: AbortSignal): Promise<void>;
}
