import { TableClient } from '@azure/data-tables';
import { QueueServiceClient } from '@azure/storage-queue';
import type { ServiceBusClient } from '@azure/service-bus';
import type { TokenCredential } from '@azure/identity';
import type { KeyVaultKey } from '@azure/keyvault-keys';
import type { KeyVaultKeyClients } from '../adapters/keyVault/keyVaultCheckpointSigning';
import { parseKeyVaultKeyUri } from '../domain/signingKeys';
import type { Settings } from '../settings';

/**
 * The only place SDK clients are constructed. The composition root builds the app's clients here,
 * and the local host gets its queue-trigger clients from here too, so every client in the process
 * is configured (retries, insecure loopback for Azurite) in one file.
 */

// Fail fast when storage is down (HTTP answers 503 with Retry-After) rather than retrying for a minute.
const STORAGE_RETRY = { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 1000 };
const QUEUE_RETRY = { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 1000 };

/** Whether a connection string points at a development endpoint over plain HTTP (Azurite). */
function isDevelopmentStorage(connection: string): boolean {
  return /UseDevelopmentStorage=true|http:\/\//i.test(connection);
}

/** The directory table. */
export function createTableClient(connection: string, table: string): TableClient {
  const client = TableClient.fromConnectionString(connection, table, {
    allowInsecureConnection: isDevelopmentStorage(connection),
    retryOptions: STORAGE_RETRY,
  });
  return isDevelopmentStorage(connection) ? withOneTransactionAtATime(client) : client;
}

/**
 * Azurite (3.37) keeps the rollback list of entity-group transactions per table store, not per
 * transaction: a transaction that starts while another is in flight is refused with a bare 500
 * ("Transaction Overlap!"), which reads as an outage. Azure Table Storage has no such limit; against
 * Azurite this process submits its transactions one at a time (commits take turns on the head row
 * anyway, so only admissions and the re-driver's writes wait a little longer).
 */
function withOneTransactionAtATime(client: TableClient): TableClient {
  const submit = client.submitTransaction.bind(client);
  let previous: Promise<unknown> = Promise.resolve();
  client.submitTransaction = (actions, options) => {
    const run = previous.then(() => submit(actions, options));
    previous = run.catch(() => undefined);
    return run;
  };
  return client;
}

/**
 * A Storage queue service client. `purpose: 'trigger'` is the local host's queue-trigger poller,
 * which retries nothing itself (its loop polls again), as the Functions host's listener does.
 */
export function createQueueServiceClient(connection: string, purpose: 'app' | 'trigger' = 'app'): QueueServiceClient {
  return QueueServiceClient.fromConnectionString(connection, { retryOptions: purpose === 'trigger' ? { maxTries: 1 } : QUEUE_RETRY });
}

/** A Service Bus client; the SDK is loaded only when asked for, being a large share of a cold start. */
export function createServiceBusClient(connection: string): ServiceBusClient {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ServiceBusClient: Client } = require('@azure/service-bus') as typeof import('@azure/service-bus');
  return new Client(connection);
}

/**
 * The credential the app calls Key Vault with: its managed identity (user-assigned when
 * AZURE_CLIENT_ID names one). Kept in one small function so the identity-based connections can
 * share one credential later. Loaded only when Key Vault signing is configured.
 */
export function keyVaultCredential(settings: Pick<Settings, 'azureClientId'>): TokenCredential {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ManagedIdentityCredential } = require('@azure/identity') as typeof import('@azure/identity');
  return settings.azureClientId ? new ManagedIdentityCredential({ clientId: settings.azureClientId }) : new ManagedIdentityCredential();
}

/**
 * The Key Vault clients checkpoint signing uses, for the vault of `keyUri`. Plain http and a challenge
 * resource that is not the vault's domain are accepted only for a loopback URI (a test's stand-in
 * Key Vault: its host cannot be a subdomain of vault.azure.net); a real vault gets the SDK's checks.
 * The SDK is loaded only when asked for.
 */
export function createKeyVaultKeyClients(keyUri: string, credential: TokenCredential): KeyVaultKeyClients {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { CryptographyClient, KeyClient } = require('@azure/keyvault-keys') as typeof import('@azure/keyvault-keys');
  const vaultUrl = parseKeyVaultKeyUri(keyUri)?.vaultUrl ?? keyUri;
  const loopback = new URL(vaultUrl).protocol === 'http:';
  const options = {
    retryOptions: { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 2000 },
    ...(loopback ? { allowInsecureConnection: true, disableChallengeResourceVerification: true } : {}),
  };
  const keys = new KeyClient(vaultUrl, credential, options);
  return { keys, cryptography: (key: KeyVaultKey) => new CryptographyClient(key, credential, options) };
}
