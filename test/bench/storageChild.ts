import { fork } from 'node:child_process';
import { azuriteConnectionString } from '../../shared/local/azurite';
import { startTestAzurite } from '../support/azurite';
import { startCountingProxy, type CountingProxy } from './countingProxy';

/**
 * Azurite (in memory, as the tests run it) and the counting proxy in their own child process, so the
 * bench process's CPU time (process.cpuUsage) is the work of the service or the floor and its load
 * generator, not storage's nor the proxy's.
 */

type Request =
  | { id: number; op: 'counts' }
  | { id: number; op: 'usage' }
  | { id: number; op: 'reset' }
  | { id: number; op: 'record'; count: number }
  | { id: number; op: 'recorded' }
  | { id: number; op: 'stop' };

export interface StorageUsage {
  cpuMs: number;
  busyMs: Record<string, number>;
}

/** The bench's handle on the storage child. */
export interface BenchStorage {
  /** Through the proxy: what the service and the floor use. */
  proxied: string;
  /** Straight to Azurite, uncounted: for the bench's own checks (is the queue empty?). */
  direct: string;
  counts(): Promise<Record<string, number>>;
  /**
   * Since the last reset: the child's CPU ms (Azurite and the proxy share its one event loop, so
   * near 1000 ms a second it is the bound), and the ms requests spent in it by kind (see busyMs).
   */
  usage(): Promise<StorageUsage>;
  reset(): Promise<void>;
  record(count: number): Promise<void>;
  recorded(): Promise<Array<{ contentType: string; body: string }>>;
  stop(): Promise<void>;
}

const portsOf = (connectionString: string) => ({
  tablePort: Number(/TableEndpoint=http:\/\/[^:]+:(\d+)/.exec(connectionString)?.[1]),
  queuePort: Number(/QueueEndpoint=http:\/\/[^:]+:(\d+)/.exec(connectionString)?.[1]),
  blobPort: Number(/BlobEndpoint=http:\/\/[^:]+:(\d+)/.exec(connectionString)?.[1]),
});

/** Forks this file as the storage child and waits for its connection strings. */
export async function startBenchStorage(): Promise<BenchStorage> {
  const child = fork(__filename, ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, (value: unknown) => void>();
  let nextId = 0;
  const ready = new Promise<{ proxied: string; direct: string }>((resolve) => {
    child.on('message', (message: { id?: number; ready?: { proxied: string; direct: string }; value?: unknown }) => {
      if (message.ready) resolve(message.ready);
      else if (message.id !== undefined) pending.get(message.id)?.(message.value);
    });
  });
  const ask = <T>(request: Omit<Request, 'id'>) =>
    new Promise<T>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve as (value: unknown) => void);
      child.send({ ...request, id });
    });
  const { proxied, direct } = await ready;
  return {
    proxied,
    direct,
    counts: () => ask({ op: 'counts' }),
    usage: () => ask({ op: 'usage' }),
    reset: () => ask({ op: 'reset' }),
    record: (count) => ask({ op: 'record', count } as Omit<Request, 'id'>),
    recorded: () => ask({ op: 'recorded' }),
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await ask({ op: 'stop' });
      await exited;
    },
  };
}

async function runChild(): Promise<void> {
  const azurite = await startTestAzurite();
  const ports = portsOf(azurite.connectionString);
  const proxy: CountingProxy = await startCountingProxy(ports);
  const proxied = azuriteConnectionString({ table: proxy.tablePort, queue: proxy.queuePort, blob: ports.blobPort });
  let cpuAtReset = process.cpuUsage();
  process.on('message', (request: Request) => {
    const reply = (value: unknown) => process.send?.({ id: request.id, value });
    switch (request.op) {
      case 'counts':
        return reply(proxy.counts());
      case 'usage': {
        const cpu = process.cpuUsage(cpuAtReset);
        return reply({ cpuMs: (cpu.user + cpu.system) / 1000, busyMs: proxy.busyMs() } satisfies StorageUsage);
      }
      case 'reset':
        cpuAtReset = process.cpuUsage();
        proxy.reset();
        return reply(true);
      case 'record':
        proxy.record(request.count);
        return reply(true);
      case 'recorded':
        return reply(proxy.recorded());
      case 'stop':
        void Promise.all([proxy.close(), azurite.stop()]).then(() => {
          reply(true);
          process.disconnect();
        });
    }
  });
  process.send?.({ ready: { proxied, direct: azurite.connectionString } });
}

if (process.argv.includes('--child')) {
  runChild().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
