import { TableClient } from '@azure/data-tables';
import type { TokenCredential } from '@azure/identity';
import { QueueServiceClient } from '@azure/storage-queue';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import type { ServiceBusClient } from '@azure/service-bus';
import { isLoopbackHost, type ConnectionIdentity, type ServiceBusConnection, type StorageConnection } from '../settings';
import type { KeyVaultKey } from '@azure/keyvault-keys';
import type { KeyVaultKeyClients } from '../adapters/keyVault/keyVaultCheckpointSigning';
import { parseKeyVaultKeyUri } from '../domain/signingKeys';

/**
 * The only place SDK clients are constructed. The composition root builds the app's clients here,
 * and the local host gets its queue-trigger clients from here too, so every client in the process
 * is configured (retries, credentials, insecure loopback for Azurite) in one file.
 *
 * A connection is a connection string (Azurite locally, or a key) or an identity-based connection
 * (Azure: no secret anywhere); for the latter the caller passes `credentialFor`, which makes the
 * TokenCredential the client asks its tokens from, so a test can hand in its own.
 */

/** Makes the credential an identity-based connection authenticates with. */
export type CredentialFor = (identity: ConnectionIdentity) => TokenCredential;

// Fail fast when storage is down (HTTP answers 503 with Retry-After) rather than retrying for a minute.
const STORAGE_RETRY = { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 1000 };
const QUEUE_RETRY = { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 1000 };

/**
 * The credential of an identity-based connection, as the Functions host builds it for the same
 * settings. `<prefix>__credential=managedidentity` means the app's managed identity and nothing
 * else: ManagedIdentityCredential, with the user-assigned identity's client id when one is given,
 * so a missing role assignment fails plainly instead of falling through to another identity.
 * Unset, DefaultAzureCredential: in Azure it still ends at the managed identity (given the same
 * client id), and on a developer's machine it uses the developer's sign-in (Azure CLI, azd, VS Code),
 * as the Functions docs describe for local runs with identity-based connections.
 * @azure/identity is loaded only when an identity-based connection is configured (cold start).
 */
export const identityCredentialFor: CredentialFor = (connection) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const identity = require('@azure/identity') as typeof import('@azure/identity');
  const { clientId } = connection;
  if (connection.credential === 'managedidentity')
    return clientId === undefined ? new identity.ManagedIdentityCredential() : new identity.ManagedIdentityCredential({ clientId });
  return new identity.DefaultAzureCredential(clientId === undefined ? {} : { managedIdentityClientId: clientId });
};

/**
 * One credential per identity (credential kind and client id), whatever services it reaches: the
 * table, queue and Service Bus clients then share its token cache instead of each asking for tokens.
 */
export function oneCredentialPerIdentity(credentialFor: CredentialFor): CredentialFor {
  const made = new Map<string, TokenCredential>();
  return (connection) => {
    const key = `${connection.credential}/${connection.clientId ?? ''}`;
    let credential = made.get(key);
    if (!credential) {
      credential = credentialFor(connection);
      made.set(key, credential);
    }
    return credential;
  };
}

/**
 * Whether a connection is a development endpoint: a connection string to Azurite (or any http://),
 * or an https service URI on the loopback interface (Azurite with --oauth basic, a test peer).
 * Only these get the Azurite quirk below; only a connection string may use plain HTTP, because the
 * SDKs send bearer tokens over TLS only (the settings refuse http service URIs).
 */
function isDevelopmentStorage(connection: StorageConnection): boolean {
  if (connection.kind === 'connectionString') return /UseDevelopmentStorage=true|http:\/\//i.test(connection.value);
  return isLoopbackHost(new URL(connection.tableServiceUri).hostname);
}

/** The directory table. */
export function createTableClient(
  connection: StorageConnection,
  table: string,
  credentialFor: CredentialFor = identityCredentialFor,
): TableClient {
  // Transactions go out concurrently, against Azurite too. Azurite keeps one rollback list per
  // table store and refuses a transaction that begins while it is not empty ("Transaction
  // Overlap!"), but it runs each transaction's steps without serving another request in between, so
  // the list is left non-empty only by a transaction that died without its reset (a name holding
  // U+2028 once did that; names now refuse it and stored JSON escapes it). 32 concurrent writers,
  // failing transactions among them, met no refusal, in memory or on disk.
  return connection.kind === 'connectionString'
    ? TableClient.fromConnectionString(connection.value, table, {
        allowInsecureConnection: isDevelopmentStorage(connection),
        retryOptions: STORAGE_RETRY,
      })
    : new TableClient(connection.tableServiceUri, table, credentialFor(connection), { retryOptions: STORAGE_RETRY });
}

/**
 * A Storage queue service client. `purpose: 'trigger'` is the local host's queue-trigger poller,
 * which retries nothing itself (its loop polls again), as the Functions host's listener does.
 */
export function createQueueServiceClient(
  connection: StorageConnection,
  purpose: 'app' | 'trigger' = 'app',
  credentialFor: CredentialFor = identityCredentialFor,
): QueueServiceClient {
  const options = { retryOptions: purpose === 'trigger' ? { maxTries: 1 } : QUEUE_RETRY };
  return connection.kind === 'connectionString'
    ? QueueServiceClient.fromConnectionString(connection.value, options)
    : new QueueServiceClient(connection.queueServiceUri, credentialFor(connection), options);
}

/**
 * The blob witness's container, in the AzureWebJobsStorage account: by its connection string (whose
 * BlobEndpoint Azurite's connection strings name), or by identity at `<prefix>__blobServiceUri`
 * (or the account name's). Undefined when the connection names no blob service.
 */
export function createWitnessContainerClient(
  connection: StorageConnection,
  container: string,
  credentialFor: CredentialFor = identityCredentialFor,
): ContainerClient | undefined {
  const options = { retryOptions: QUEUE_RETRY };
  if (connection.kind === 'connectionString') {
    // A string naming its table endpoint but no blob endpoint (an emulator without its blob service)
    // has no blob service this app knows of; an account's plain string (key, suffix) implies all three.
    if (/(^|;)\s*TableEndpoint=/i.test(connection.value) && !/(^|;)\s*BlobEndpoint=/i.test(connection.value)) return undefined;
    return BlobServiceClient.fromConnectionString(connection.value, options).getContainerClient(container);
  }
  if (connection.blobServiceUri === undefined) return undefined;
  return new BlobServiceClient(connection.blobServiceUri, credentialFor(connection), options).getContainerClient(container);
}

/** A Service Bus client; the SDK is loaded only when asked for, being a large share of a cold start. */
export function createServiceBusClient(
  connection: ServiceBusConnection,
  credentialFor: CredentialFor = identityCredentialFor,
): ServiceBusClient {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ServiceBusClient: Client } = require('@azure/service-bus') as typeof import('@azure/service-bus');
  return connection.kind === 'connectionString'
    ? new Client(connection.value)
    : new Client(connection.fullyQualifiedNamespace, credentialFor(connection));
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
