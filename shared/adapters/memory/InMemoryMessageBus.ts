import type { DeadLetter, Destination, MessageBus, OutgoingMessage } from '../../application/ports/messageBus';

/** A MessageBus that keeps what was sent, for unit tests; `failNext` makes the next send throw. */
export class InMemoryMessageBus implements MessageBus {
  readonly sent: Array<{ destination: Destination; message: OutgoingMessage }> = [];
  readonly deadLetters: Array<{ source: Destination; letter: DeadLetter }> = [];
  private failures: Error[] = [];

  /** Queues an error for the next send or dead-letter. */
  failNext(error: Error = new Error('transport down')): void {
    this.failures.push(error);
  }

  async send(destination: Destination, message: OutgoingMessage): Promise<void> {
    this.throwIfFailing();
    this.sent.push({ destination, message: structuredClone(message) });
  }

  async deadLetter(source: Destination, letter: DeadLetter): Promise<void> {
    this.throwIfFailing();
    this.deadLetters.push({ source, letter: structuredClone(letter) });
  }

  /** The bodies sent to one destination. */
  bodies(destination: Destination): unknown[] {
    return this.sent.filter((entry) => entry.destination === destination).map((entry) => entry.message.body);
  }

  private throwIfFailing(): void {
    const failure = this.failures.shift();
    if (failure) throw failure;
  }
}
