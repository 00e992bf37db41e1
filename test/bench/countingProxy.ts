import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * A counting proxy on loopback in front of Azurite: forwards every request unchanged to Azurite's
 * table or queue port and counts it by service, method and kind of path. Both the service and the
 * floor reach storage through it, so both are counted the same way, and no hook enters the product.
 * It can also keep the bodies of table `$batch` requests (the floor replays one of the service's).
 */
export interface CountingProxy {
  /** Ports to put in a connection string's TableEndpoint / QueueEndpoint. */
  tablePort: number;
  queuePort: number;
  /** Requests since the last reset, by `<service> <METHOD> <kind>`. */
  counts(): Record<string, number>;
  /** Milliseconds from each request's arrival to its answer's end, summed by the same kinds since the last reset. */
  busyMs(): Record<string, number>;
  reset(): void;
  /** Keeps the next `count` table batch bodies (and their content types) for `recorded()`. */
  record(count: number): void;
  recorded(): Array<{ contentType: string; body: string }>;
  close(): Promise<void>;
}

/** The kind of a storage path: the account and table/queue names and keys are dropped, so requests group by what they do. */
export function pathKind(service: 'table' | 'queue', method: string, url: string): string {
  const path = decodeURIComponent(new URL(url, 'http://x').pathname).split('/').filter(Boolean).slice(1); // the account
  if (service === 'table') {
    const [first = ''] = path;
    if (first === '$batch') return 'batch';
    if (first.startsWith('Tables')) return 'tables';
    if (/\(PartitionKey=.*RowKey=.*\)$/.test(first)) return 'entity';
    return method === 'GET' ? 'query' : 'insert';
  }
  if (path.length <= 1) return 'queue';
  if (path.length === 2) return 'messages';
  return 'message';
}

/** Starts the proxy in front of Azurite's table and queue ports. */
export async function startCountingProxy(targets: { tablePort: number; queuePort: number }): Promise<CountingProxy> {
  let counts: Record<string, number> = {};
  let busy: Record<string, number> = {};
  let toRecord = 0;
  const recorded: Array<{ contentType: string; body: string }> = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const serve = (service: 'table' | 'queue', port: number) =>
    http.createServer((request, response) => {
      const key = `${service} ${request.method} ${pathKind(service, request.method ?? '', request.url ?? '/')}`;
      counts[key] = (counts[key] ?? 0) + 1;
      const arrived = performance.now();
      response.on('finish', () => {
        busy[key] = (busy[key] ?? 0) + performance.now() - arrived;
      });
      const keep = service === 'table' && toRecord > 0 && (request.url ?? '').includes('$batch');
      if (keep) toRecord--;
      const chunks: Buffer[] = [];
      const upstream = http.request(
        { host: '127.0.0.1', port, method: request.method, path: request.url, headers: request.headers, agent },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      upstream.on('error', () => response.destroy());
      request.on('data', (chunk: Buffer) => {
        if (keep) chunks.push(chunk);
        upstream.write(chunk);
      });
      request.on('end', () => {
        if (keep) recorded.push({ contentType: String(request.headers['content-type']), body: Buffer.concat(chunks).toString('utf8') });
        upstream.end();
      });
    });
  const listen = async (server: http.Server) => {
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };
  const tableServer = serve('table', targets.tablePort);
  const queueServer = serve('queue', targets.queuePort);
  const [tablePort, queuePort] = [await listen(tableServer), await listen(queueServer)];
  return {
    tablePort,
    queuePort,
    counts: () => ({ ...counts }),
    busyMs: () => ({ ...busy }),
    reset: () => {
      counts = {};
      busy = {};
    },
    record: (count) => {
      toRecord = count;
      recorded.length = 0;
    },
    recorded: () => [...recorded],
    close: async () => {
      agent.destroy();
      for (const server of [tableServer, queueServer]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}
