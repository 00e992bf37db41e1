import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

/** Azurite's well-known development account (public, documented key). */
export const DEV_ACCOUNT = 'devstoreaccount1';
export const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** Azurite's ports. */
export interface AzuritePorts {
  blob: number;
  queue: number;
  table: number;
}

/** The connection string for an Azurite at these ports on loopback. */
export function azuriteConnectionString(ports: Pick<AzuritePorts, 'queue' | 'table'> & { blob?: number }, host = '127.0.0.1'): string {
  return (
    [
      'DefaultEndpointsProtocol=http',
      `AccountName=${DEV_ACCOUNT}`,
      `AccountKey=${DEV_KEY}`,
      ...(ports.blob ? [`BlobEndpoint=http://${host}:${ports.blob}/${DEV_ACCOUNT}`] : []),
      `QueueEndpoint=http://${host}:${ports.queue}/${DEV_ACCOUNT}`,
      `TableEndpoint=http://${host}:${ports.table}/${DEV_ACCOUNT}`,
    ].join(';') + ';'
  );
}

/** Whether something accepts TCP connections on the port. */
export function isListening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitForPorts(ports: number[], child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Azurite exited with code ${child.exitCode} before it listened`);
    if ((await Promise.all(ports.map((port) => isListening(port)))).every(Boolean)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Azurite did not listen on ports ${ports.join(', ')} within ${timeoutMs} ms`);
}

/** A running Azurite child process. */
export interface AzuriteProcess {
  connectionString: string;
  stop(): Promise<void>;
}

/**
 * Starts Azurite from node_modules as a child process: telemetry off, loopback only, data kept
 * under `location` so the directory survives restarts.
 */
export async function startAzurite(options: {
  location: string;
  ports: AzuritePorts;
  log?: (line: string) => void;
}): Promise<AzuriteProcess> {
  const cli = path.join(path.dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'azurite.js');
  const { ports } = options;
  const child = spawn(
    process.execPath,
    [
      cli,
      '--silent',
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--loose',
      '--location',
      options.location,
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(ports.blob),
      '--queueHost',
      '127.0.0.1',
      '--queuePort',
      String(ports.queue),
      '--tableHost',
      '127.0.0.1',
      '--tablePort',
      String(ports.table),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stderr?.on('data', (chunk: Buffer) => options.log?.(`azurite: ${chunk.toString().trim()}`));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPorts([ports.queue, ports.table], child, 20_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    connectionString: azuriteConnectionString(ports),
    async stop() {
      if (child.exitCode === null) child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
