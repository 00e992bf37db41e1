import { loadFunctionApp } from './functionsRegistry';
import { LocalFunctionsHost } from './LocalFunctionsHost';
import { readHostSettings } from './hostSettings';
import { loadDemoTopology } from './demoTopology';
import { container } from '../container';

/** A running local host. */
export interface RunningLocalHost {
  /** The base URL HTTP triggers are served under (empty when the HTTP role is off). */
  url: string;
  routes: ReturnType<LocalFunctionsHost['routes']>;
  demoTopologyLoaded: boolean;
  stop(): Promise<void>;
}

/** Options for the local host; the storage connection must already be in process.env.AzureWebJobsStorage. */
export interface StartLocalHostOptions {
  appRoot: string;
  port: number;
  hostname?: string;
  roles?: { http: boolean; queues: boolean; timers?: boolean };
  /** Seconds a received message stays leased (renewed while its function runs); else LOCAL_HOST_MESSAGE_LEASE_SECONDS, else 30. */
  messageLeaseSeconds?: number;
  loadDemoTopology?: boolean;
  log?: (line: string) => void;
}

/** LOCAL_HOST_MESSAGE_LEASE_SECONDS, so that a worker spawned as its own process can be given a short lease. */
function leaseFromEnvironment(): number | undefined {
  const text = process.env.LOCAL_HOST_MESSAGE_LEASE_SECONDS;
  if (text === undefined || text === '') return undefined;
  if (!/^\d+$/.test(text)) throw new Error(`LOCAL_HOST_MESSAGE_LEASE_SECONDS must be a whole number of seconds, not "${text}"`);
  return Number(text);
}

/**
 * Runs the app's functions/ on the local host: learns their registrations, wires the container from
 * the environment, seeds the demo topology on an empty store, then serves HTTP, polls queues and runs timers.
 */
export async function startLocalHost(options: StartLocalHostOptions): Promise<RunningLocalHost> {
  const messageLeaseSeconds = options.messageLeaseSeconds ?? leaseFromEnvironment();
  const registrations = loadFunctionApp(options.appRoot);
  const deps = await container();
  const demoTopologyLoaded = options.loadDemoTopology === false ? false : await loadDemoTopology(deps);
  const host = new LocalFunctionsHost({
    registrations,
    settings: readHostSettings(options.appRoot),
    setting: (name) => process.env[name],
    port: options.port,
    hostname: options.hostname,
    roles: options.roles,
    messageLeaseSeconds,
    log: options.log,
  });
  const url = await host.start();
  return {
    url,
    routes: host.routes(),
    demoTopologyLoaded,
    async stop() {
      await host.stop();
      await deps.close();
    },
  };
}
