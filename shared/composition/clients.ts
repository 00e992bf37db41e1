import { TableClient } from '@azure/data-tables';
import { QueueServiceClient } from '@azure/storage-queue';
import type { ServiceBusClient } from '@azure/service-bus';

/**
 * The only place SDK clients are constructed. The composition root builds the app's clients here,
 * and the local host gets its queue-trigger clients from here too, so every client in the process
 * is configured (retries, insecure loopback for Azurite) in one file.
 */

// Fail fast when storage is down (HTTP answers 503 with Retry-After) rather than retrying for a minute.
const STORAGE_RETRY = { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 1000 };
const QUEUE_RETRY = { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 1000 };

/** Whether a connection string points at a development endpoint over plain HTTP (Azurite). */
function isDevelopmentStorage(connection: string): boolean {
  return /UseDevelopmentStorage=true|http:\/\//i.test(connection);
}

/** The directory table. */
export function createTableClient(connection: string, table: string): TableClient {
  const client = TableClient.fromConnectionString(connection, table, {
    allowInsecureConnection: isDevelopmentStorage(connection),
    retryOptions: STORAGE_RETRY,
  });
  return isDevelopmentStorage(connection) ? withOneTransactionAtATime(client) : client;
}

/**
 * Azurite (3.35, the version pinned here, and still 3.37) keeps the rollback list of entity-group
 * transactions per table store, not per transaction: a transaction that starts while another is in
 * flight is refused with a bare 500 ("Transaction Overlap!"), which reads as an outage. Azure Table
 * Storage has no such limit; against Azurite this process submits its transactions one at a time
 * (commits take turns on the head row anyway, so only admissions and the re-driver's writes wait a
 * little longer).
 */
function withOneTransactionAtATime(client: TableClient): TableClient {
  const submit = client.submitTransaction.bind(client);
  let previous: Promise<unknown> = Promise.resolve();
  client.submitTransaction = (actions, options) => {
    const run = previous.then(() => submit(actions, options));
    previous = run.catch(() => undefined);
    return run;
  };
  return client;
}

/**
 * A Storage queue service client. `purpose: 'trigger'` is the local host's queue-trigger poller,
 * which retries nothing itself (its loop polls again), as the Functions host's listener does.
 */
export function createQueueServiceClient(connection: string, purpose: 'app' | 'trigger' = 'app'): QueueServiceClient {
  return QueueServiceClient.fromConnectionString(connection, { retryOptions: purpose === 'trigger' ? { maxTries: 1 } : QUEUE_RETRY });
}

/** A Service Bus client; the SDK is loaded only when asked for, being a large share of a cold start. */
export function createServiceBusClient(connection: string): ServiceBusClient {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ServiceBusClient: Client } = require('@azure/service-bus') as typeof import('@azure/service-bus');
  return new Client(connection);
}
