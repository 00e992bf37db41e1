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
const BlobServer = require('azurite/dist/src/blob/BlobServer').default;
const BlobConfiguration = require('azurite/dist/src/blob/BlobConfiguration').default;
const { DEFAULT_BLOB_PERSISTENCE_ARRAY } = require('azurite/dist/src/blob/utils/constants');

interface Server {
  start(): Promise<void>;
  close(): Promise<void>;
  getHttpServerAddress(): string;
}

/** The slice of a LokiJS database and collection the lookup-order workaround touches. */
interface LokiCollection {
  findOne(query: Record<string, unknown>): unknown;
}
interface LokiDatabase {
  getCollection(name: string): LokiCollection | null;
}
/** Both servers keep their metadata in LokiJS, as `metadataStore.db`. */
type ServerWithMetadata = Server & { metadataStore: { db: LokiDatabase } };

/**
 * Workaround for Azurite 3.35 (the last release that runs on Node 20), fixed upstream in 3.36
 * (Azure/Azurite#2588, "Fix query performance by reordering property names"): Azurite looks a row
 * up with `findOne({ PartitionKey, RowKey })` (a queue with `{ accountName, name }`, a message with
 * `{ accountName, queueName, messageId }`), and LokiJS uses an index for the first key of such a
 * query only. Every point read, insert, replace and delete of a row then walks its whole
 * partition, and this app keeps a deployment in one partition (so a commit is one transaction):
 * writing 20,000 audit records took over 11 minutes of CPU instead of under one. Putting the
 * selective key first, as 3.36 does, gives the same answers (an `and` of equalities) through the
 * index. Harmless on 3.36 and later, where the keys already come in this order; drop it with 3.35.
 */
const SELECTIVE_KEYS = ['RowKey', 'messageId', 'name'];

/** The same query object with its selective keys first (LokiJS evaluates an object's keys in order). */
export function selectiveKeyFirst(query: Record<string, unknown>): Record<string, unknown> {
  const entries = Object.entries(query);
  const selective = (key: string) => SELECTIVE_KEYS.includes(key);
  return Object.fromEntries([...entries.filter(([key]) => selective(key)), ...entries.filter(([key]) => !selective(key))]);
}

/** Makes every collection of one Azurite server's metadata store take its selective key first. */
function withSelectiveLookups(server: ServerWithMetadata): void {
  const db = server.metadataStore.db;
  const getCollection = db.getCollection.bind(db);
  const reordered = new WeakSet<LokiCollection>();
  db.getCollection = (name) => {
    const collection = getCollection(name);
    if (collection && !reordered.has(collection)) {
      const findOne = collection.findOne.bind(collection);
      collection.findOne = (query) => findOne(query && typeof query === 'object' ? selectiveKeyFirst(query) : query);
      reordered.add(collection);
    }
    return collection;
  };
}

/** An Azurite instance for one test file. */
export interface TestAzurite {
  connectionString: string;
  stop(): Promise<void>;
  /** Stops the queue server alone (tables keep answering), to show an outage of the message transport. */
  stopQueues(): Promise<void>;
}

const portOf = (server: Server) => Number(new URL(server.getHttpServerAddress()).port);

/** Starts Azurite tables, queues and blobs (the audit witness) in this process, in memory, on free loopback ports. */
export async function startTestAzurite(): Promise<TestAzurite> {
  // Positional arguments: host, port, keepAlive, dbPath, debugLog, accessLog, accessStream, debugPath,
  // loose, skipApiVersionCheck, cert, key, pwd, oauth, disableProductStyleUrl, inMemoryPersistence.
  // prettier-ignore
  const table: ServerWithMetadata = new TableServer(new TableConfiguration('127.0.0.1', 0, 5, 'unused.json', false, false, undefined, undefined, true, true, '', '', '', undefined, false, true));
  // prettier-ignore
  const queue: ServerWithMetadata = new QueueServer(new QueueConfiguration('127.0.0.1', 0, 5, 'a.json', 'b.json', DEFAULT_QUEUE_PERSISTENCE_ARRAY, false, undefined, false, undefined, true, true, '', '', '', undefined, false, true));
  // prettier-ignore
  const blob: Server = new BlobServer(new BlobConfiguration('127.0.0.1', 0, 5, 'c.json', 'd.json', DEFAULT_BLOB_PERSISTENCE_ARRAY, false, undefined, false, undefined, true, true, '', '', '', undefined, false, true));
  withSelectiveLookups(table);
  withSelectiveLookups(queue);
  await Promise.all([table.start(), queue.start(), blob.start()]);
  return {
    connectionString: azuriteConnectionString({ queue: portOf(queue), table: portOf(table), blob: portOf(blob) }),
    stop: async () => {
      await Promise.all([table.close(), queue.close(), blob.close()]);
    },
    stopQueues: () => queue.close(),
  };
}
