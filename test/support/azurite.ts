import { azuriteConnectionString } from '../../shared/local/azurite';

/* eslint-disable @typescript-eslint/no-require-imports */
// Azurite's servers, started in-process on ephemeral ports with in-memory persistence: each test
// file gets its own empty storage in milliseconds. These are Azurite internals (its package main
// needs VS Code), pinned with the azurite version.
const TableServer = require('azurite/dist/src/table/TableServer').default;
const TableConfiguration = require('azurite/dist/src/table/TableConfiguration').default;
const QueueServer = require('azurite/dist/src/queue/QueueServer').default;
const QueueConfiguration = require('azurite/dist/src/queue/QueueConfiguration').default;
const { DEFAULT_QUEUE_PERSISTENCE_ARRAY } = require('azurite/dist/src/queue/utils/constants');

interface Server {
  start(): Promise<void>;
  close(): Promise<void>;
  getHttpServerAddress(): string;
}

/** An Azurite instance for one test file. */
export interface TestAzurite {
  connectionString: string;
  stop(): Promise<void>;
  /** Stops the queue server alone (tables keep answering), to show an outage of the message transport. */
  stopQueues(): Promise<void>;
}

const portOf = (server: Server) => Number(new URL(server.getHttpServerAddress()).port);

/** Starts Azurite tables and queues in this process, in memory, on free loopback ports. */
export async function startTestAzurite(): Promise<TestAzurite> {
  // Positional arguments: host, port, keepAlive, dbPath, debugLog, accessLog, accessStream, debugPath,
  // loose, skipApiVersionCheck, cert, key, pwd, oauth, disableProductStyleUrl, inMemoryPersistence.
  // prettier-ignore
  const table: Server = new TableServer(new TableConfiguration('127.0.0.1', 0, 5, 'unused.json', false, false, undefined, undefined, true, true, '', '', '', undefined, false, true));
  // prettier-ignore
  const queue: Server = new QueueServer(new QueueConfiguration('127.0.0.1', 0, 5, 'a.json', 'b.json', DEFAULT_QUEUE_PERSISTENCE_ARRAY, false, undefined, false, undefined, true, true, '', '', '', undefined, false, true));
  await Promise.all([table.start(), queue.start()]);
  return {
    connectionString: azuriteConnectionString({ queue: portOf(queue), table: portOf(table) }),
    stop: async () => {
      await Promise.all([table.close(), queue.close()]);
    },
    stopQueues: () => queue.close(),
  };
}
