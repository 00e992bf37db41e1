import type { TokenCredential } from '@azure/identity';
import type { ServiceDependencies } from '../application/dependencies';
import { KeyedMutex } from '../application/keyedMutex';
import { RateLimiter } from '../application/rateLimiter';
import type { MessageBus } from '../application/ports/messageBus';
import type { Logger } from '../application/ports/system';
import { StorageQueueMessageBus } from '../adapters/storageQueues/StorageQueueMessageBus';
import { systemClock, uuidv7Ids } from '../adapters/system';
import { openTableStore } from '../adapters/tables/tableStore';
import { easyAuthAuthenticator, keysAuthenticator, openAuthenticator, type Authenticator } from '../entrypoints/http/authentication';
import { AuthMode, DeploymentNames, Transport, type Settings } from '../settings';
import { keyVaultCheckpointSigning } from '../adapters/keyVault/keyVaultCheckpointSigning';
import { pemCheckpointSigning } from '../adapters/localKey/pemCheckpointSigning';
import type { CheckpointKeyRing, CheckpointSigner } from '../application/ports/checkpointSigning';
import {
  createKeyVaultKeyClients,
  createQueueServiceClient,
  createServiceBusClient,
  createTableClient,
  keyVaultCredential,
} from './clients';

/** The wired service: the use cases' dependencies, and what to release on shutdown. */
export interface Composition extends ServiceDependencies {
  /** Who is calling over HTTP, by AUTH_MODE. */
  authenticator: Authenticator;
  close(): Promise<void>;
}

/** A logger writing one JSON line per entry, so the local host's output and the Functions log read alike. */
export function jsonLinesLogger(write: (line: string, level: 'info' | 'warn') => void): Logger {
  return {
    info: (message, data) => write(JSON.stringify({ level: 'info', message, ...data }), 'info'),
    warn: (message, data) => write(JSON.stringify({ level: 'warn', message, ...data }), 'warn'),
  };
}

/** JSON lines on the console: the Functions host forwards console output to its log (and Application Insights). */
export const consoleLogger: Logger = jsonLinesLogger((line, level) => (level === 'warn' ? console.warn(line) : console.log(line)));

/** The message bus the settings name, and how to close what it opened. */
function messageBusFor(settings: Settings): { bus: MessageBus; close(): Promise<void> } {
  if (settings.transport === Transport.serviceBus) {
    // Loaded only when configured: the Service Bus SDK is a large share of a cold start.
    type ServiceBusAdapter = typeof import('../adapters/serviceBus/ServiceBusMessageBus');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createServiceBusMessageBus } = require('../adapters/serviceBus/ServiceBusMessageBus') as ServiceBusAdapter;
    const client = createServiceBusClient(settings.serviceBusConnection as string);
    const bus = createServiceBusMessageBus(client, settings.queues);
    return {
      bus,
      close: async () => {
        await bus.close();
        await client.close();
      },
    };
  }
  const service = createQueueServiceClient(settings.storageConnection);
  return { bus: new StorageQueueMessageBus((name) => service.getQueueClient(name), settings.queues), close: async () => undefined };
}

/** What signs audit checkpoints and what verifies them; both absent when signing is not configured. */
export interface CheckpointSigning {
  checkpointSigner?: CheckpointSigner;
  checkpointKeys?: CheckpointKeyRing;
}

/**
 * Checkpoint signing from the settings: a Key Vault key through the app's identity
 * (AUDIT_SIGNING_KEY_VAULT_KEY_ID, in Azure), a local PEM key (AUDIT_SIGNING_KEY), or none (the
 * settings refuse both at once). The verifier's ring holds the signer's key. A bad key is a
 * ConfigurationError naming its setting; Key Vault is first called at the first checkpoint.
 */
export function checkpointSigningFor(
  settings: Pick<Settings, 'auditSigningKey' | 'auditSigningKeyVaultKeyId' | 'azureClientId'>,
  credentialFor: (settings: Pick<Settings, 'azureClientId'>) => TokenCredential = keyVaultCredential,
): CheckpointSigning {
  if (settings.auditSigningKeyVaultKeyId) {
    const keyUri = settings.auditSigningKeyVaultKeyId;
    const clients = createKeyVaultKeyClients(keyUri, credentialFor(settings));
    const { signer, keyRing } = keyVaultCheckpointSigning(keyUri, clients, DeploymentNames.appSettings.auditSigningKeyVaultKeyId);
    return { checkpointSigner: signer, checkpointKeys: keyRing };
  }
  if (settings.auditSigningKey) {
    const { signer, keyRing } = pemCheckpointSigning(settings.auditSigningKey, DeploymentNames.appSettings.auditSigningKey);
    return { checkpointSigner: signer, checkpointKeys: keyRing };
  }
  return {};
}

/**
 * The authenticator AUTH_MODE names, built once. The settings have validated the keys and refused
 * `off` in Azure; what is left to say is warned here, once, at start (never a key).
 */
export function authenticatorFor(auth: Settings['auth'], log: Logger): Authenticator {
  if (auth.mode === AuthMode.off) {
    log.warn('AUTH_MODE is off: every HTTP caller is "anonymous" with every role; for development only');
    return openAuthenticator();
  }
  if (auth.mode === AuthMode.easyauth) return easyAuthAuthenticator();
  if (auth.apiKeys.length === 0) log.warn('AUTH_MODE is keys and LOCAL_API_KEYS is unset: every API call will answer 401');
  return keysAuthenticator(auth.apiKeys);
}

/**
 * The composition root: builds the SDK clients (through clients.ts) and the adapters once from the
 * parsed settings, and hands them to the use cases as one set of dependencies.
 */
export async function compose(settings: Settings, log: Logger = consoleLogger): Promise<Composition> {
  const signing = checkpointSigningFor(settings);
  const authenticator = authenticatorFor(settings.auth, log);
  const store = await openTableStore(createTableClient(settings.storageConnection, settings.table), settings.partition, log);
  const messaging = messageBusFor(settings);
  return {
    ...store,
    bus: messaging.bus,
    clock: systemClock,
    ids: uuidv7Ids,
    log,
    authenticator,
    mutex: new KeyedMutex(),
    eventSource: settings.eventSource,
    delivery: settings.delivery,
    limits: settings.limits,
    submissionLimiter: new RateLimiter(settings.submissionRate, systemClock),
    ...signing,
    close: () => messaging.close(),
  };
}
