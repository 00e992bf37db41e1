import { Destination, type DeadLetter, type MessageBus, type OutgoingMessage } from '../../application/ports/messageBus';
import { ErrorCode, UnavailableError } from '../../domain/errors';
import { deadLetterMessage, refuseIfTooLarge, type TransportRules } from '../transportRules';

/** A message as its transport hands it to a consumer: the body, plus the metadata where the transport carries it. */
export type DeliveredMessage = Partial<OutgoingMessage> & { body: unknown };

/**
 * A MessageBus that keeps what was sent, for unit tests; `failNext` makes the next send throw. It
 * stands in for one transport and keeps that transport's rules: it refuses a message too large for
 * it, files dead letters under that transport's queue name and delivers only what it carries.
 */
export class InMemoryMessageBus implements MessageBus {
  readonly sent: Array<{ destination: Destination; message: OutgoingMessage }> = [];
  readonly deadLetters: Array<{ source: Destination; queue: string; letter: DeadLetter }> = [];
  private readonly queues = new Map<string, DeliveredMessage[]>();
  private failures: Error[] = [];

  /**
   * @param rules the transport this bus stands in for: StorageQueueRules or ServiceBusRules.
   * @param queueNames the queue behind each destination; by default the destination's own name.
   */
  constructor(
    readonly rules: TransportRules,
    private readonly queueNames: Record<Destination, string> = Destination,
  ) {}

  /** Queues an error for the next send, dead-letter or reachability check; by default the transport is unreachable. */
  failNext(error: Error = new UnavailableError(ErrorCode.serviceUnavailable, 'transport down')): void {
    this.failures.push(error);
  }

  async send(destination: Destination, message: OutgoingMessage): Promise<void> {
    refuseIfTooLarge(this.rules, message);
    this.throwIfFailing();
    this.sent.push({ destination, message: structuredClone(message) });
    this.deliver(this.queueNames[destination], message);
  }

  async deadLetter(source: Destination, letter: DeadLetter): Promise<void> {
    const message = deadLetterMessage(letter, this.rules);
    refuseIfTooLarge(this.rules, message);
    this.throwIfFailing();
    const queue = `${this.queueNames[source]}${this.rules.deadLetterSuffix}`;
    this.deadLetters.push({ source, queue, letter: structuredClone(letter) });
    this.deliver(queue, message);
  }

  /** Reachable, unless a failure is queued (`failNext`) or the check's deadline has passed. */
  async checkReachable(signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw new UnavailableError(ErrorCode.serviceUnavailable, 'transport check timed out', { cause: signal.reason });
    this.throwIfFailing();
  }

  /** The bodies sent to one destination. */
  bodies(destination: Destination): unknown[] {
    return this.sent.filter((entry) => entry.destination === destination).map((entry) => entry.message.body);
  }

  /** What a consumer of one queue (a destination's, or a dead-letter queue) would receive, oldest first. */
  received(queue: string): DeliveredMessage[] {
    return structuredClone(this.queues.get(queue) ?? []);
  }

  private deliver(queue: string, message: OutgoingMessage): void {
    const delivered = this.queues.get(queue) ?? [];
    this.queues.set(queue, delivered);
    // Both transports carry the body as JSON: what JSON drops (undefined, a Date's type) does not arrive.
    const body = JSON.parse(JSON.stringify(message.body ?? null)) as unknown;
    delivered.push(this.rules.carriesMetadata ? { ...structuredClone(message), body } : { body });
  }

  private throwIfFailing(): void {
    const failure = this.failures.shift();
    if (failure) throw failure;
  }
}
