import type { TokenCredential } from '@azure/identity';
import type { AzureMonitorOpenTelemetryOptions } from '@azure/monitor-opentelemetry';
import { DeploymentNames } from '../settings';

/**
 * The telemetry switch. With APPLICATIONINSIGHTS_CONNECTION_STRING set, OpenTelemetry starts once
 * per process through the Azure Monitor distro (traces, metrics, logs to Application Insights);
 * unset, nothing is loaded or started, and the OpenTelemetry API stays the no-op it is by default.
 * Called before the function files load the Azure SDKs, so the distro's instrumentations see them
 * (see telemetryStart.ts).
 */

const CONNECTION_STRING = DeploymentNames.appSettings.applicationInsightsConnectionString;
const AUTHENTICATION_STRING = DeploymentNames.appSettings.applicationInsightsAuthenticationString;

/** What starting telemetry calls: injected, so a test sees the call without loading the distro or reaching Azure. */
export interface TelemetryRuntime {
  useAzureMonitor(options: AzureMonitorOpenTelemetryOptions): void;
  /** A managed identity's credential: the user-assigned one with `clientId`, else the system-assigned one. */
  managedIdentityCredential(clientId: string | undefined): TokenCredential;
  warn(message: string): void;
}

/** Whether telemetry started, and how the exporter authenticates. */
export type TelemetryState =
  | { started: false; reason: string }
  | { started: true; authentication: 'managed-identity' | 'instrumentation-key'; options: AzureMonitorOpenTelemetryOptions };

/**
 * APPLICATIONINSIGHTS_AUTHENTICATION_STRING, as the Functions host reads it: `Authorization=AAD`
 * (system-assigned identity) or `Authorization=AAD;ClientId=<client id>` (a user-assigned one).
 * Returns the client id (undefined for system-assigned), or an error naming the setting, never its value.
 */
export function parseAuthenticationString(value: string): { clientId: string | undefined } | { error: string } {
  const fields = new Map<string, string>();
  for (const part of value.split(';')) {
    if (part.trim() === '') continue;
    const at = part.indexOf('=');
    if (at <= 0) return { error: `${AUTHENTICATION_STRING}: each part must be Name=Value` };
    fields.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
  }
  if (fields.get('authorization')?.toUpperCase() !== 'AAD') return { error: `${AUTHENTICATION_STRING}: must say Authorization=AAD` };
  const clientId = fields.get('clientid');
  if (clientId === '') return { error: `${AUTHENTICATION_STRING}: ClientId must not be empty` };
  return { clientId };
}

/**
 * The distro's options. The Functions host already records each incoming request (and with
 * enableHttpStream proxies it to this worker over HTTP), so incoming HTTP is not recorded again
 * here; outgoing calls (Table Storage, queues, Service Bus) are.
 */
function optionsFor(connectionString: string, credential: TokenCredential | undefined): AzureMonitorOpenTelemetryOptions {
  const http = { enabled: true, ignoreIncomingRequestHook: () => true };
  return {
    azureMonitorExporterOptions: { connectionString, ...(credential ? { credential } : {}) },
    instrumentationOptions: { http, azureSdk: { enabled: true } },
  };
}

/**
 * Starts telemetry when the settings ask for it. A bad authentication string is warned about and
 * leaves telemetry off: the service runs on without it rather than failing every function.
 */
export function startTelemetry(env: NodeJS.ProcessEnv, runtime: TelemetryRuntime): TelemetryState {
  const connectionString = env[CONNECTION_STRING]?.trim();
  if (!connectionString) return { started: false, reason: `${CONNECTION_STRING} is not set` };
  const authentication = env[AUTHENTICATION_STRING]?.trim();
  let credential: TokenCredential | undefined;
  if (authentication) {
    const parsed = parseAuthenticationString(authentication);
    if ('error' in parsed) {
      runtime.warn(`telemetry is off: ${parsed.error}`);
      return { started: false, reason: parsed.error };
    }
    // Application Insights with local authentication disabled takes Entra tokens only.
    credential = runtime.managedIdentityCredential(parsed.clientId);
  }
  const options = optionsFor(connectionString, credential);
  runtime.useAzureMonitor(options);
  return { started: true, authentication: credential ? 'managed-identity' : 'instrumentation-key', options };
}

/** The real runtime: the distro and @azure/identity, loaded only when telemetry is on (they weigh on a cold start). */
export const azureMonitorRuntime: TelemetryRuntime = {
  useAzureMonitor(options) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { useAzureMonitor } = require('@azure/monitor-opentelemetry') as typeof import('@azure/monitor-opentelemetry');
    useAzureMonitor(options);
  },
  managedIdentityCredential(clientId) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { ManagedIdentityCredential } = require('@azure/identity') as typeof import('@azure/identity');
    return clientId === undefined ? new ManagedIdentityCredential() : new ManagedIdentityCredential({ clientId });
  },
  warn: (message) => console.warn(JSON.stringify({ level: 'warn', message })),
};

let started: TelemetryState | undefined;

/** Starts telemetry for this process, once, from process.env. */
export function startProcessTelemetry(): TelemetryState {
  started ??= startTelemetry(process.env, azureMonitorRuntime);
  return started;
}

/** Flushes and stops telemetry when the host shuts the worker down (a no-op when it is off). */
export async function stopProcessTelemetry(): Promise<void> {
  if (!started?.started) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { shutdownAzureMonitor } = require('@azure/monitor-opentelemetry') as typeof import('@azure/monitor-opentelemetry');
  await shutdownAzureMonitor();
}
