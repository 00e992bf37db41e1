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
  roles?: { http: boolean; queues: boolean };
  loadDemoTopology?: boolean;
  log?: (line: string) => void;
}

/**
 * Runs the app's functions/ on the local host: learns their registrations, wires the container from
 * the environment, seeds the demo topology on an empty store, then serves HTTP and polls queues.
 */
export async function startLocalHost(options: StartLocalHostOptions): Promise<RunningLocalHost> {
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
