import { createPrivateKey, type KeyObject } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { QueueServiceClient } from '@azure/storage-queue';
import type { Dependencies } from './application/commitDecision';
import type { Logger, MessageBus } from './application/ports';
import { StorageQueueMessageBus } from './adapters/storageQueues/StorageQueueMessageBus';
import { systemClock, uuidv7Ids } from './adapters/system';
import { TableDirectoryStore } from './adapters/tables/TableDirectoryStore';
import { ConfigurationError } from './domain/errors';
import { parseSettings, Transport, type Settings as Config } from './settings';

/** The wired service: use-case dependencies plus the resources to release on shutdown. */
export interface Container extends Dependencies {
  config: Config;
  close(): Promise<void>;
}

/** Logs one JSON line per entry, so the local host's output and App Insights traces read alike. */
export const consoleLogger: Logger = {
  info: (message, data) => console.log(JSON.stringify({ level: 'info', message, ...data })),
  warn: (message, data) => console.warn(JSON.stringify({ level: 'warn', message, ...data })),
};

// Fail fast when storage is down (HTTP answers 503 with Retry-After) rather than retrying for a minute.
const STORAGE_RETRY = { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 1000 };

function isDevelopmentStorage(connection: string): boolean {
  return /UseDevelopmentStorage=true|http:\/\//i.test(connection);
}

function messageBusFor(cfg: Config): { bus: MessageBus; close(): Promise<void> } {
  if (cfg.transport === Transport.serviceBus) {
    // Loaded only when configured: the Service Bus SDK is a large share of a cold start.
    const { ServiceBusClient } = require('@azure/service-bus') as typeof import('@azure/service-bus');
    const { createServiceBusMessageBus } = require('./adapters/serviceBus/ServiceBusMessageBus') as typeof import('./adapters/serviceBus/ServiceBusMessageBus');
    const client = new ServiceBusClient(cfg.serviceBusConnection as string);
    const bus = createServiceBusMessageBus(client, cfg.queues);
    return { bus, close: async () => { await bus.close(); await client.close(); } };
  }
  const service = QueueServiceClient.fromConnectionString(cfg.storageConnection, { retryOptions: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 1000 } });
  return { bus: new StorageQueueMessageBus((name) => service.getQueueClient(name), cfg.queues), close: async () => undefined };
}

/** The checkpoint signing key: an Ed25519 private key, or a clear error naming the setting. */
function signingKeyFrom(pem: string | undefined): KeyObject | undefined {
  if (pem === undefined) return undefined;
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new ConfigurationError('invalid_configuration', `AUDIT_SIGNING_KEY: is not a PKCS#8 PEM private key (${(error as Error).message})`, { cause: error });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new ConfigurationError('invalid_configuration', `AUDIT_SIGNING_KEY: must be an Ed25519 key, not ${key.asymmetricKeyType}`);
  return key;
}

/** Builds clients and adapters once from the configuration; the only place SDK clients are created. */
export async function buildContainer(cfg: Config, log: Logger = consoleLogger): Promise<Container> {
  const signingKey = signingKeyFrom(cfg.auditSigningKey);
  const table = TableClient.fromConnectionString(cfg.storageConnection, cfg.table, {
    allowInsecureConnection: isDevelopmentStorage(cfg.storageConnection),
    retryOptions: STORAGE_RETRY,
  });
  const store = new TableDirectoryStore(table, cfg.partition);
  await store.ensureTable();
  const messaging = messageBusFor(cfg);
  return { config: cfg, store, bus: messaging.bus, clock: systemClock, ids: uuidv7Ids, log, eventSource: cfg.eventSource, delivery: cfg.delivery, signingKey, close: messaging.close };
}

let shared: Promise<Container> | undefined;

/**
 * Hands the process a container wired elsewhere, before any function runs. The fault-injection
 * worker uses it to wrap the store and bus with its kill switches; nothing in the app does.
 */
export function provideContainer(wired: Promise<Container>): void {
  shared = wired;
}

/** The process-wide container, built on first use (and built again if building failed). */
export function container(): Promise<Container> {
  shared ??= buildContainer(parseSettings()).catch((error) => {
    shared = undefined;
    throw error;
  });
  return shared;
}
