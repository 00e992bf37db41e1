import { createQueueServiceClient, identityCredentialFor, oneCredentialPerIdentity } from '../composition/clients';
import { compose, jsonLinesLogger, type Composition } from '../composition/compose';
import { runFunctionsWith } from '../composition/functionBindings';
import { parseSettings, parseStorageConnection } from '../settings';
import { loadDemoTopology } from './demoTopology';
import { loadFunctionApp } from './functionsRegistry';
import { readHostSettings } from './hostSettings';
import { LocalFunctionsHost } from './LocalFunctionsHost';

/** A running local host. */
export interface RunningLocalHost {
  /** The base URL HTTP triggers are served under (empty when the HTTP role is off). */
  url: string;
  routes: ReturnType<LocalFunctionsHost['routes']>;
  demoTopologyLoaded: boolean;
  /** The dependencies the functions run with (the same store and bus a test may inspect). */
  dependencies: Composition;
  stop(): Promise<void>;
}

/** Options for the local host; the settings come from process.env (AzureWebJobsStorage, or its identity-based settings, must be set). */
export interface StartLocalHostOptions {
  appRoot: string;
  port: number;
  hostname?: string;
  roles?: { http: boolean; queues: boolean; timers?: boolean };
  /** Seconds a received message stays leased (renewed while its function runs); else LOCAL_HOST_MESSAGE_LEASE_SECONDS, else 30. */
  messageLeaseSeconds?: number;
  loadDemoTopology?: boolean;
  /**
   * Changes the composed dependencies before the functions get them. The fault-injection suite
   * wraps the store and bus with its kill switches here; `npm start` leaves them as composed.
   */
  adapt?: (composition: Composition) => Composition;
  log?: (line: string) => void;
}

/** LOCAL_HOST_MESSAGE_LEASE_SECONDS, so that a worker spawned as its own process can be given a short lease. */
function leaseFromEnvironment(): number | undefined {
  const text = process.env.LOCAL_HOST_MESSAGE_LEASE_SECONDS;
  if (text === undefined || text === '') return undefined;
  if (!/^\d+$/.test(text)) throw new Error(`LOCAL_HOST_MESSAGE_LEASE_SECONDS must be a whole number of seconds, not "${text}"`);
  return Number(text);
}

/** The origin a local caller uses: http://localhost:<the port it listens on>. */
function localOriginOf(listeningUrl: string): string {
  return `http://localhost:${new URL(listeningUrl).port}`;
}

/**
 * Runs the app's functions/ on the local host: composes the dependencies from the environment and
 * hands them to the functions, learns the functions' registrations, seeds the demo topology on an
 * empty directory, then serves HTTP, polls queues and runs timers.
 */
export async function startLocalHost(options: StartLocalHostOptions): Promise<RunningLocalHost> {
  const messageLeaseSeconds = options.messageLeaseSeconds ?? leaseFromEnvironment();
  const settings = parseSettings();
  const composed = await compose(settings, options.log ? jsonLinesLogger(options.log) : undefined);
  const dependencies = options.adapt ? options.adapt(composed) : composed;
  runFunctionsWith(dependencies);
  const registrations = loadFunctionApp(options.appRoot);
  const triggerCredentials = oneCredentialPerIdentity(identityCredentialFor);
  const demoTopologyLoaded = options.loadDemoTopology === false ? false : await loadDemoTopology(dependencies);
  const host = new LocalFunctionsHost({
    registrations,
    settings: readHostSettings(options.appRoot),
    setting: (name) => process.env[name],
    // A binding's connection is resolved as the Functions host does: a connection string, or the
    // identity-based `<connection>__…` settings (then the developer's sign-in, through DefaultAzureCredential).
    queueServiceFor: (connectionSetting) =>
      createQueueServiceClient(parseStorageConnection(connectionSetting), 'trigger', triggerCredentials),
    port: options.port,
    hostname: options.hostname,
    roles: options.roles,
    messageLeaseSeconds,
    log: options.log,
  });
  const url = await host.start();
  // Locations and problem types name this host's own origin unless PUBLIC_BASE_URL (or WEBSITE_HOSTNAME)
  // says otherwise; with port 0 the port is known only now, before any caller can know it.
  if (settings.publicBaseUrl === undefined && url) dependencies.publicBaseUrl = localOriginOf(url);
  return {
    url,
    routes: host.routes(),
    demoTopologyLoaded,
    dependencies,
    async stop() {
      await host.stop();
      await dependencies.close();
    },
  };
}
