import type { ServiceDependencies } from '../application/dependencies';
import { KeyedMutex } from '../application/keyedMutex';
import { RateLimiter } from '../application/rateLimiter';
import type { MessageBus } from '../application/ports/messageBus';
import type { LogFields, Logger } from '../application/ports/system';
import type { QueueClient } from '@azure/storage-queue';
import { StorageQueueMessageBus } from '../adapters/storageQueues/StorageQueueMessageBus';
import { systemClock, uuidv7Ids } from '../adapters/system';
import { openTelemetryTracing } from '../adapters/tracing';
import { openTableStore } from '../adapters/tables/tableStore';
import { BlobAuditWitness } from '../adapters/blob/BlobAuditWitness';
import type { AuditWitness } from '../application/ports/auditWitness';
import { easyAuthAuthenticator, keysAuthenticator, openAuthenticator, type Authenticator } from '../entrypoints/http/authentication';
import { AuthMode, DeploymentNames, Transport, type ConnectionIdentity, type Settings } from '../settings';
import { keyVaultCheckpointSigning } from '../adapters/keyVault/keyVaultCheckpointSigning';
import { pemCheckpointSigning } from '../adapters/localKey/pemCheckpointSigning';
import type { CheckpointKeyRing, CheckpointSigner } from '../application/ports/checkpointSigning';
import { keyRingOf, keyRingOfKeys } from '../application/audit/keyRing';
import { ConfigurationError, ErrorCode } from '../domain/errors';
import { sameKey } from '../domain/signingKeys';
import {
  createKeyVaultKeyClients,
  createQueueServiceClient,
  createServiceBusClient,
  createTableClient,
  createWitnessContainerClient,
  identityCredentialFor,
  oneCredentialPerIdentity,
  type CredentialFor,
} from './clients';

/** The wired service: the use cases' dependencies, and what to release on shutdown. */
export interface Composition extends ServiceDependencies {
  /** Who is calling over HTTP, by AUTH_MODE. */
  authenticator: Authenticator;
  /** The origin callers reach the API at (PUBLIC_BASE_URL, https://WEBSITE_HOSTNAME, or the local host's). */
  publicBaseUrl: string;
  close(): Promise<void>;
}

/**
 * A logger writing one JSON line per entry, so the local host's output and the Functions log read
 * alike. `with` makes a child that writes its bound fields (function name, invocation, correlation
 * and change-request ids, principal, trace id) on every line, after the level and message.
 */
export function jsonLinesLogger(write: (line: string, level: 'info' | 'warn') => void, bound: LogFields = {}): Logger {
  const line = (level: 'info' | 'warn', message: string, data?: Record<string, unknown>) =>
    write(JSON.stringify({ level, message, ...bound, ...data }), level);
  return {
    info: (message, data) => line('info', message, data),
    warn: (message, data) => line('warn', message, data),
    with: (fields) => jsonLinesLogger(write, { ...bound, ...fields }),
  };
}

/** A logger that writes nothing (a script that reports on its own, a test that does not look). */
export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, with: () => silentLogger };

/** JSON lines on the console: the Functions host forwards console output to its log (and Application Insights). */
export const consoleLogger: Logger = jsonLinesLogger((line, level) => (level === 'warn' ? console.warn(line) : console.log(line)));

/** What the composition root can be given besides the settings. */
export interface ComposeOptions {
  /**
   * Makes the credential of an identity-based connection (no connection string); by default
   * ManagedIdentityCredential or DefaultAzureCredential (clients.ts says which). A test passes its own.
   */
  credentialFor?: CredentialFor;
}

/** The message bus the settings name, and how to close what it opened. */
function messageBusFor(settings: Settings, credentialFor: CredentialFor): { bus: MessageBus; close(): Promise<void> } {
  if (settings.transport === Transport.serviceBus) {
    // Loaded only when configured: the Service Bus SDK is a large share of a cold start.
    type ServiceBusAdapter = typeof import('../adapters/serviceBus/ServiceBusMessageBus');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createServiceBusMessageBus } = require('../adapters/serviceBus/ServiceBusMessageBus') as ServiceBusAdapter;
    // The settings refuse service-bus without a connection, so it is there.
    const client = createServiceBusClient(settings.serviceBus as NonNullable<Settings['serviceBus']>, credentialFor);
    const bus = createServiceBusMessageBus(client, settings.queues);
    return {
      bus,
      close: async () => {
        await bus.close();
        await client.close();
      },
    };
  }
  const service = createQueueServiceClient(settings.storage, 'app', credentialFor);
  // One client per queue, made on first use: a QueueClient builds its whole request pipeline when made.
  const queues = new Map<string, QueueClient>();
  const queueFor = (name: string): QueueClient => {
    let queue = queues.get(name);
    if (!queue) queues.set(name, (queue = service.getQueueClient(name)));
    return queue;
  };
  return { bus: new StorageQueueMessageBus(queueFor, settings.queues), close: async () => undefined };
}

/** What signs audit checkpoints and what verifies them; both absent when signing is not configured. */
export interface CheckpointSigning {
  checkpointSigner?: CheckpointSigner;
  checkpointKeys?: CheckpointKeyRing;
}

/**
 * Who the app is to Key Vault: the identity its storage connection uses, when that is
 * identity-based (one identity, one token cache), else AZURE_CLIENT_ID's managed identity or the
 * developer's sign-in (DefaultAzureCredential).
 */
function keyVaultIdentity(settings: Pick<Settings, 'azureClientId' | 'storage'>): ConnectionIdentity {
  if (settings.storage.kind === 'identity') return settings.storage;
  return { kind: 'identity', credential: 'default', ...(settings.azureClientId ? { clientId: settings.azureClientId } : {}) };
}

/**
 * Checkpoint signing from the settings: a Key Vault key through the app's identity
 * (AUDIT_SIGNING_KEY_VAULT_KEY_ID, in Azure), a local PEM key (AUDIT_SIGNING_KEY), or none (the
 * settings refuse both at once). The verifier's ring holds the signer's key, then the verify-only
 * keys (AUDIT_VERIFY_KEYS), so checkpoints signed before a rotation keep verifying. A bad key is a
 * ConfigurationError naming its setting; Key Vault is first called at the first checkpoint.
 */
export function checkpointSigningFor(
  settings: Pick<Settings, 'auditSigningKey' | 'auditSigningKeyVaultKeyId' | 'auditVerifyKeys' | 'azureClientId' | 'storage'>,
  credentialFor: CredentialFor = identityCredentialFor,
): CheckpointSigning {
  const signing = signerFor(settings, credentialFor);
  const verifyOnly = settings.auditVerifyKeys;
  if (verifyOnly.length === 0) return signing;
  const signerKey = signing.checkpointKeys?.listedKeys()[0];
  const clash = signerKey && verifyOnly.find((key) => key.keyId === signerKey.keyId && !sameKey(key, signerKey));
  if (clash) {
    throw new ConfigurationError(
      ErrorCode.invalidConfiguration,
      `${DeploymentNames.appSettings.auditVerifyKeys}: key ${clash.keyId} is the signing key's id with another key`,
    );
  }
  const rings = [...(signing.checkpointKeys ? [signing.checkpointKeys] : []), keyRingOfKeys(verifyOnly)];
  return { ...signing, checkpointKeys: keyRingOf(rings) };
}

/** The signer the settings name and the ring of its own key, or nothing. */
function signerFor(
  settings: Pick<Settings, 'auditSigningKey' | 'auditSigningKeyVaultKeyId' | 'azureClientId' | 'storage'>,
  credentialFor: CredentialFor,
): CheckpointSigning {
  if (settings.auditSigningKeyVaultKeyId) {
    const keyUri = settings.auditSigningKeyVaultKeyId;
    const clients = createKeyVaultKeyClients(keyUri, credentialFor(keyVaultIdentity(settings)));
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
 * The blob witness of audit checkpoints, in AUDIT_WITNESS_CONTAINER of the AzureWebJobsStorage
 * account; none (warned once) when the connection names no blob service.
 */
export function auditWitnessFor(
  settings: Pick<Settings, 'storage' | 'auditWitnessContainer'>,
  credentialFor: CredentialFor,
  log: Logger,
): AuditWitness | undefined {
  const container = createWitnessContainerClient(settings.storage, settings.auditWitnessContainer, credentialFor);
  if (container) return new BlobAuditWitness(container);
  log.warn(
    `no blob witness: ${DeploymentNames.connections.storage} names no blob service (a BlobEndpoint, __blobServiceUri or __accountName), so audit checkpoints are not copied to ${settings.auditWitnessContainer}`,
  );
  return undefined;
}

/** The origin of `npm start` on its default port, when nothing says otherwise. */
export const DEFAULT_LOCAL_ORIGIN = 'http://localhost:7071';

/**
 * The composition root: builds the SDK clients (through clients.ts) and the adapters once from the
 * parsed settings, and hands them to the use cases as one set of dependencies.
 */

export async function compose(settings: Settings, log: Logger = consoleLogger, options: ComposeOptions = {}): Promise<Composition> {
  const credentialFor = oneCredentialPerIdentity(options.credentialFor ?? identityCredentialFor);
  const signing = checkpointSigningFor(settings, credentialFor);
  const authenticator = authenticatorFor(settings.auth, log);
  const store = await openTableStore(createTableClient(settings.storage, settings.table, credentialFor), settings.partition, log);
  const messaging = messageBusFor(settings, credentialFor);
  return {
    ...store,
    bus: messaging.bus,
    clock: systemClock,
    ids: uuidv7Ids,
    log,
    tracing: openTelemetryTracing(),
    authenticator,
    mutex: new KeyedMutex(),
    eventSource: settings.eventSource,
    delivery: settings.delivery,
    limits: settings.limits,
    submissionLimiter: new RateLimiter(settings.submissionRate, systemClock),
    // Unset outside Azure: the local host replaces this with its own origin once it listens.
    publicBaseUrl: settings.publicBaseUrl ?? DEFAULT_LOCAL_ORIGIN,
    ...signing,
    auditWitness: auditWitnessFor(settings, credentialFor, log),
    close: () => messaging.close(),
  };
}
