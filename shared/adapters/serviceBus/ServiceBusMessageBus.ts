import {
  isServiceBusError,
  MessagingError,
  type ServiceBusClient,
  type ServiceBusMessage,
  type ServiceBusSender,
} from '@azure/service-bus';
import { Destination, type DeadLetter, type MessageBus, type OutgoingMessage } from '../../application/ports/messageBus';
import { ErrorCode, TooLargeError, UnavailableError } from '../../domain/errors';
import { isAbort, networkCodeOf } from '../azureErrors';
import { deadLetterMessage, refuseIfTooLarge, ServiceBusRules } from '../transportRules';

/** The slice of ServiceBusSender this adapter uses, so a test can hand it a fake. */
export type MessageSender = Pick<ServiceBusSender, 'sendMessages' | 'createMessageBatch'>;

/** The queue or topic behind each destination, and the suffix that names its dead-letter queue (default ServiceBusRules'). */
export interface ServiceBusEntities extends Record<Destination, string> {
  deadLetterSuffix?: string;
}

/** A MessageBus that owns its senders; close it on shutdown (the client stays open, its owner closes it). */
export interface ClosableMessageBus extends MessageBus {
  close(): Promise<void>;
}

/**
 * MessageBus on Azure Service Bus.
 *
 * Dead letters go to a plain queue named `<source entity><deadLetterSuffix>` (`-invalid` unless configured),
 * not to the entity's `$deadletterqueue`: the SDK can only dead-letter a message this process holds under a
 * peek-lock, and `deadLetter` is handed a letter, not a locked message. The reason and
 * description ride in the same application properties Service Bus itself uses for its DLQ
 * (`DeadLetterReason`, `DeadLetterErrorDescription`), so operators read both queues the same way.
 *
 * Size: @azure/service-bus 7.9.5 checks a batch (and an array, which it batches) against the
 * max-message-size the broker advertises on the link, but sends a single message unchecked; the
 * broker then refuses it with `amqp:link:message-size-exceeded`, which the SDK throws as a
 * ServiceBusError `MessageSizeExceeded`. So the adapter refuses a message over ServiceBusRules' limit
 * before sending it, and translates a refusal by the broker into the same TooLargeError.
 */
export class ServiceBusMessageBus implements MessageBus {
  /**
   * @param senderFor returns the sender for a queue or topic name; reuse one per entity, as the SDK advises.
   * @param entities the entity name behind each destination.
   */
  constructor(
    private readonly senderFor: (entityName: string) => MessageSender,
    private readonly entities: ServiceBusEntities,
  ) {}

  async send(destination: Destination, message: OutgoingMessage): Promise<void> {
    await this.deliver(this.entities[destination], message);
  }

  async deadLetter(source: Destination, letter: DeadLetter): Promise<void> {
    const suffix = this.entities.deadLetterSuffix ?? ServiceBusRules.deadLetterSuffix;
    await this.deliver(`${this.entities[source]}${suffix}`, deadLetterMessage(letter, ServiceBusRules));
  }

  /**
   * Opens (or finds open) the sending link of each destination entity by asking it for an empty
   * batch: that needs the connection, the CBS token and the broker's attach of the entity (which
   * refuses a missing entity or an identity without Send rights), and sends nothing. Once a link is
   * open it answers from the link, so repeated probes cost no round trip.
   */
  async checkReachable(signal: AbortSignal): Promise<void> {
    const destinations = new Set(Object.values(Destination).map((destination) => this.entities[destination]));
    await Promise.all([...destinations].map((entityName) => this.checkEntity(entityName, signal)));
  }

  private async checkEntity(entityName: string, signal: AbortSignal): Promise<void> {
    try {
      await this.senderFor(entityName).createMessageBatch({ abortSignal: signal });
    } catch (error) {
      throw translate(error, entityName);
    }
  }

  private async deliver(entityName: string, message: OutgoingMessage): Promise<void> {
    refuseIfTooLarge(ServiceBusRules, message);
    try {
      await this.senderFor(entityName).sendMessages(toServiceBusMessage(message));
    } catch (error) {
      throw translate(error, entityName);
    }
  }
}

/** A MessageBus on `client` that creates one sender per entity on first use and reuses it. */
export function createServiceBusMessageBus(client: ServiceBusClient, entities: ServiceBusEntities): ClosableMessageBus {
  const senders = new Map<string, ServiceBusSender>();
  const senderFor = (entityName: string): ServiceBusSender => {
    let sender = senders.get(entityName);
    if (!sender) {
      sender = client.createSender(entityName);
      senders.set(entityName, sender);
    }
    return sender;
  };
  const bus = new ServiceBusMessageBus(senderFor, entities);
  return {
    send: (destination, message) => bus.send(destination, message),
    deadLetter: (source, letter) => bus.deadLetter(source, letter),
    checkReachable: (signal) => bus.checkReachable(signal),
    close: async () => {
      const open = [...senders.values()];
      senders.clear();
      await Promise.all(open.map((sender) => sender.close()));
    },
  };
}

/** The body goes as-is: the SDK encodes a non-binary body as JSON in a data section. */
export function toServiceBusMessage(message: OutgoingMessage): ServiceBusMessage {
  const result: ServiceBusMessage = { body: message.body, messageId: message.messageId, contentType: message.contentType };
  // Leave unset fields out, so a fake sender sees the same fields the SDK puts on the wire.
  if (message.subject !== undefined) result.subject = message.subject;
  if (message.correlationId !== undefined) result.correlationId = message.correlationId;
  if (message.sessionId !== undefined) result.sessionId = message.sessionId;
  if (message.properties !== undefined) result.applicationProperties = { ...message.properties };
  return result;
}

/**
 * A size refusal becomes TooLargeError; broker and transport failures, and an operation aborted at
 * its deadline, become UnavailableError; anything else (a bug of ours) passes through.
 */
function translate(error: unknown, entityName: string): unknown {
  if (isServiceBusError(error) && error.code === 'MessageSizeExceeded') {
    return new TooLargeError(ErrorCode.messageTooLarge, `service bus entity '${entityName}' refused the message as too large`, {
      cause: error,
    });
  }
  if (error instanceof MessagingError || isNetworkError(error) || isAbort(error)) {
    return new UnavailableError(ErrorCode.serviceUnavailable, `service bus entity '${entityName}' is unavailable`, { cause: error });
  }
  return error;
}

function isNetworkError(error: unknown): boolean {
  return networkCodeOf(error) !== undefined;
}
