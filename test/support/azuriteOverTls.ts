import type { IncomingMessage } from 'node:http';

/* eslint-disable @typescript-eslint/no-require-imports */
// Azurite's servers in-process, as test/support/azurite.ts starts them, but over https and with
// `--oauth basic`: the only way Azurite accepts bearer tokens. Azurite internals, pinned with it.
const TableServer = require('azurite/dist/src/table/TableServer').default;
const TableConfiguration = require('azurite/dist/src/table/TableConfiguration').default;
const QueueServer = require('azurite/dist/src/queue/QueueServer').default;
const QueueConfiguration = require('azurite/dist/src/queue/QueueConfiguration').default;
const { DEFAULT_QUEUE_PERSISTENCE_ARRAY } = require('azurite/dist/src/queue/utils/constants');

interface Server {
  start(): Promise<void>;
  close(): Promise<void>;
  getHttpServerAddress(): string;
  /** The node server Azurite answers on (ServerBase.httpServer): its requests are recorded from here. */
  httpServer: { prependListener(event: 'request', listener: (request: IncomingMessage) => void): unknown };
}

/** What a request carried, as the server saw it. */
export interface RecordedRequest {
  service: 'table' | 'queue';
  method: string;
  path: string;
  authorization: string | undefined;
}

/** Azurite tables and queues over TLS with OAuth, recording each request's Authorization header. */
export interface AzuriteOverTls {
  tableServiceUri: string;
  queueServiceUri: string;
  requests: RecordedRequest[];
  stop(): Promise<void>;
}

const ACCOUNT = 'devstoreaccount1';

/** Starts it in this process, in memory, on free loopback ports, serving the given certificate files. */
export async function startAzuriteOverTls(tls: { certFile: string; keyFile: string }): Promise<AzuriteOverTls> {
  // Positional arguments as in test/support/azurite.ts; here cert and key files, and oauth 'basic'.
  // prettier-ignore
  const table: Server = new TableServer(new TableConfiguration('127.0.0.1', 0, 5, 'unused.json', false, false, undefined, undefined, true, true, tls.certFile, tls.keyFile, '', 'basic', false, true));
  // prettier-ignore
  const queue: Server = new QueueServer(new QueueConfiguration('127.0.0.1', 0, 5, 'a.json', 'b.json', DEFAULT_QUEUE_PERSISTENCE_ARRAY, false, undefined, false, undefined, true, true, tls.certFile, tls.keyFile, '', 'basic', false, true));
  const requests: RecordedRequest[] = [];
  const record = (service: RecordedRequest['service']) => (request: IncomingMessage) =>
    requests.push({ service, method: request.method ?? '', path: request.url ?? '', authorization: request.headers.authorization });
  table.httpServer.prependListener('request', record('table'));
  queue.httpServer.prependListener('request', record('queue'));
  await Promise.all([table.start(), queue.start()]);
  return {
    tableServiceUri: `${table.getHttpServerAddress()}/${ACCOUNT}`,
    queueServiceUri: `${queue.getHttpServerAddress()}/${ACCOUNT}`,
    requests,
    stop: async () => {
      await Promise.all([table.close(), queue.close()]);
    },
  };
}
