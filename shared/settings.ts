import { z } from 'zod';
import { DEFAULT_DELIVERY_POLICY } from './application/deliveryPolicy';
import { ErrorCode, ConfigurationError, type FieldError } from './domain/errors';
import { PrincipalNameSchema, ROLES, type Role } from './domain/principal';
import { parseKeyVaultKeyUri } from './domain/signingKeys';
import { parseVerificationKeys } from './domain/verifyKeys';
import names from './names.json';

/**
 * The service's settings (app settings in Azure, the environment locally), parsed once and failing
 * fast with every bad setting named. Each setting is named here and once in infra/.
 *
 * Two views of one schema: function files read the registration settings when they are imported
 * (Functions needs queue names, schedules and the trigger kind at registration); everything else is
 * parsed by the composition root and passed in.
 *
 * The names themselves (settings, queues, topic, table, transports) come from names.json, the file
 * infra/ loads too; test/unit/deployment/ fails when the two sides disagree.
 */

/** The deployment's names, shared with infra/ (see names.json's $comment). */
export const DeploymentNames = names;

/** The messaging transports the queue-triggered functions can bind to. */
export const Transport = {
  storageQueues: names.transport.storageQueues as 'storage-queues',
  serviceBus: names.transport.serviceBus as 'service-bus',
} as const;
export type Transport = (typeof Transport)[keyof typeof Transport];

/** The app-setting names the function bindings refer to (binding `connection` values). */
export const ConnectionSetting = names.connections;

/** The Key Vault signing key's setting (typed as its literal, as zod's object keys need; the value is names.json's). */
const KEY_VAULT_KEY_ID = names.appSettings.auditSigningKeyVaultKeyId as 'AUDIT_SIGNING_KEY_VAULT_KEY_ID';
const AZURE_CLIENT_ID = names.appSettings.azureClientId as 'AZURE_CLIENT_ID';
const PUBLIC_BASE_URL = names.appSettings.publicBaseUrl as 'PUBLIC_BASE_URL';
const WEBSITE_HOSTNAME = names.appSettings.websiteHostname as 'WEBSITE_HOSTNAME';

const name = (fallback: string) => z.string().trim().min(1).default(fallback);
const count = (fallback: number, max: number) =>
  z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(max, `must be at most ${max}`).default(fallback);

/** What the function registrations need: which transport, which queues, which schedules. */
const RegistrationSchema = z.object({
  /** Which transport carries endpoint change requests and audit events. */
  MESSAGING_TRANSPORT: z.enum([Transport.storageQueues, Transport.serviceBus]).default(Transport.storageQueues),
  ENDPOINT_CREATE_QUEUE: name(names.queues.endpointCreate),
  ENDPOINT_DELETE_QUEUE: name(names.queues.endpointDelete),
  /** A Storage queue, or a Service Bus topic, for audit events. */
  AUDIT_EVENTS_DESTINATION: name(names.topics.auditEvents),
  /** When the re-drive timer runs (6-field NCRONTAB, UTC): outbox events and waiting requests. */
  REDRIVE_SCHEDULE: name('*/10 * * * * *'),
  /** When the checkpoint timer signs the audit head (6-field NCRONTAB, UTC). */
  AUDIT_CHECKPOINT_SCHEDULE: name('0 */5 * * * *'),
  /** When the verification timer advances running audit verifications (6-field NCRONTAB, UTC). */
  AUDIT_VERIFICATION_SCHEDULE: name('*/15 * * * * *'),
});

/** Where the identity of an HTTP caller comes from (see shared/entrypoints/http/authentication.ts). */
export const AuthMode = { keys: 'keys', easyauth: 'easyauth', off: 'off' } as const;
export type AuthMode = (typeof AuthMode)[keyof typeof AuthMode];

/** The shortest API key: 32 characters of the alphabet below carry at least 190 bits when generated. */
export const MIN_API_KEY_LENGTH = 32;

/** One configured API key: who it identifies and what that principal may do. */
export interface ApiKey {
  principal: string;
  roles: Role[];
  key: string;
}

// RFC 6750 b64token: what an Authorization: Bearer credential may hold.
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

const ApiKeySchema = z.strictObject({
  principal: PrincipalNameSchema,
  roles: z
    .array(z.enum(ROLES as [Role, ...Role[]], { error: `must be one of ${ROLES.join(', ')}` }), { error: 'must be an array of roles' })
    .min(1, 'must name at least one role')
    .transform((roles) => [...new Set(roles)]),
  // The messages never quote the key: a configuration error is logged.
  key: z
    .string({ error: 'must be a string' })
    .min(MIN_API_KEY_LENGTH, `must be at least ${MIN_API_KEY_LENGTH} characters`)
    .max(1024, 'must be at most 1024 characters')
    .regex(BEARER_TOKEN, 'must be letters, digits and - . _ ~ + / (a bearer token)'),
});

/** LOCAL_API_KEYS: a JSON array of {"principal","roles","key"}, no key given twice. */
const ApiKeysSchema = z
  .string()
  .transform((text, ctx): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      // Not the parser's message: it quotes the text, which holds keys.
      ctx.addIssue({ code: 'custom', message: 'must be a JSON array of {"principal","roles","key"} objects' });
      return z.NEVER;
    }
  })
  .pipe(
    z.array(ApiKeySchema, { error: 'must be a JSON array of {"principal","roles","key"} objects' }).superRefine((keys, ctx) => {
      const seen = new Set<string>();
      keys.forEach((entry, index) => {
        if (seen.has(entry.key)) ctx.addIssue({ code: 'custom', path: [index, 'key'], message: 'is the same key as an earlier entry' });
        seen.add(entry.key);
      });
    }),
  );

// A host name (RFC 1123 labels) or an IP literal, with an optional port: what an origin's authority holds.
const HOST_PORT = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/**
 * Why a public base URL is refused, or undefined: it must be an http(s) origin (scheme, host and
 * optional port; a trailing slash is tolerated) with no user, path, query or fragment, so every URL
 * built on it is `<origin>/api/...`.
 */
export function publicOriginProblem(text: string): string | undefined {
  const rule = 'must be an http(s) origin such as https://pchat.contoso.com, without a path, query, fragment or user';
  if (!/^https?:\/\/[^/?#@\s]+\/?$/i.test(text)) return rule;
  try {
    new URL(text);
  } catch {
    return rule;
  }
  return undefined;
}

/** Where callers reach the API: what the absolute URLs the service writes are built on. */
const PublicOriginSchema = z.object({
  /**
   * The origin callers reach the API at (https://pchat.contoso.com), for absolute Location headers
   * and problem `type` URIs: configured, never taken from a request's Host or X-Forwarded-Host.
   */
  [PUBLIC_BASE_URL]: z
    .string()
    .trim()
    .transform((value, ctx) => {
      const problem = publicOriginProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
      return problem ? value : new URL(value).origin;
    })
    .optional(),
  /** Set by App Service: the app's default host name (<app>.azurewebsites.net), the origin when PUBLIC_BASE_URL is unset. */
  [WEBSITE_HOSTNAME]: z
    .string()
    .trim()
    .regex(HOST_PORT, 'must be a host name with an optional port, such as <app>.azurewebsites.net')
    .optional(),
});

/** PUBLIC_BASE_URL, else https://WEBSITE_HOSTNAME (App Service); undefined when neither is set. */
function publicBaseUrlOf(env: z.infer<typeof PublicOriginSchema>): string | undefined {
  return env[PUBLIC_BASE_URL] ?? (env[WEBSITE_HOSTNAME] ? `https://${env[WEBSITE_HOSTNAME].toLowerCase()}` : undefined);
}

// The storage and Service Bus connections are not in this schema: each is a family of settings
// under one prefix (see connections below), parsed by storageConnectionFrom / serviceBusConnectionFrom.
const SettingsSchema = RegistrationSchema.extend({
  DIRECTORY_TABLE: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, 'must be a valid table name')
    .default(names.tables.directory),
  /** One deployment's directory is one partition; a second deployment is a second partition. */
  DIRECTORY_PARTITION: name('default'),
  /** The CloudEvents `source` of this deployment's events. */
  EVENT_SOURCE: z.string().min(1).optional(),
  /** Seconds an accepted request may wait before the re-driver sends its message again (doubling per send). */
  REDRIVE_AFTER_SECONDS: count(DEFAULT_DELIVERY_POLICY.redriveAfterMs / 1000, 86_400),
  /** Sends of one request's message before it is settled as failed (undeliverable). */
  REDRIVE_MAX_SENDS: count(DEFAULT_DELIVERY_POLICY.maxSends, 1000),
  /** Deliveries before a message is set aside; must equal host.json maxDequeueCount and the Service Bus queues' maxDeliveryCount. */
  MAX_DELIVERY_COUNT: count(names.delivery.maxDeliveryCount, 100),
  /** The private key (PKCS#8 PEM, Ed25519 or EC P-256; `\n` escapes allowed) that signs audit checkpoints locally. */
  AUDIT_SIGNING_KEY: z.string().min(1).optional(),
  /** In Azure: the Key Vault EC P-256 key that signs audit checkpoints through the app's managed identity (no private key in a setting). */
  [KEY_VAULT_KEY_ID]: z
    .string()
    .trim()
    .refine((uri) => parseKeyVaultKeyUri(uri) !== undefined, {
      message:
        'must be a Key Vault key URI: https://<vault>.vault.azure.net/keys/<name>[/<32-hex version>] (http on loopback only), without query or fragment',
    })
    .optional(),
  /**
   * The public keys of retired signing keys, so the checkpoints they signed keep verifying after a
   * rotation: a JWK set (what GET /api/audit/signing-keys answers) or PEM public keys one after
   * another. Never a private key. Blank counts as unset.
   */
  AUDIT_VERIFY_KEYS: z
    .string()
    .transform((text, ctx) => {
      if (text.trim() === '') return [];
      try {
        return parseVerificationKeys(text);
      } catch (error) {
        // The parser's messages name the key and member at fault, never a key's content.
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    })
    .optional(),
  /** The client id of the user-assigned managed identity Key Vault is called with (unset: the system-assigned identity). */
  [AZURE_CLIENT_ID]: z.string().trim().min(1).optional(),
  /** Hours an Idempotency-Key answers retries with the original result. */
  IDEMPOTENCY_KEY_TTL_HOURS: count(DEFAULT_DELIVERY_POLICY.idempotencyKeyTtlMs / 3_600_000, 24 * 30),
  /** Submissions one principal may make per window, per instance (bursts up to this many); the rest get 429. */
  SUBMISSION_RATE_LIMIT: count(3000, 1_000_000),
  /**
   * The Blob container (in the AzureWebJobsStorage account) that keeps a copy of every audit
   * checkpoint: the blob witness, under a WORM policy in Azure.
   */
  AUDIT_WITNESS_CONTAINER: z
    .string()
    .trim()
    .regex(/^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, 'must be a blob container name (3-63 lowercase letters, digits and single hyphens)')
    .default(names.containers.auditWitness),
  /** Records one audit export (format=ndjson|csv) holds at most; past it the export says how to fetch the rest. */
  AUDIT_EXPORT_MAX_RECORDS: count(100_000, 10_000_000),
  /** The window of SUBMISSION_RATE_LIMIT, in seconds. */
  SUBMISSION_RATE_WINDOW_SECONDS: count(60, 86_400),
  /** Where HTTP callers' identity comes from: API keys (the default), App Service authentication, or nowhere (development only). */
  AUTH_MODE: z.enum([AuthMode.keys, AuthMode.easyauth, AuthMode.off], { error: 'must be keys, easyauth or off' }).default(AuthMode.keys),
  /** The API keys of AUTH_MODE=keys; unset, no key is valid (npm start generates and sets them). */
  LOCAL_API_KEYS: ApiKeysSchema.optional(),
  /** Set by App Service on every instance: its presence means "running in Azure". */
  WEBSITE_INSTANCE_ID: z.string().optional(),
  ...PublicOriginSchema.shape,
}).superRefine((env, ctx) => {
  if (env.AUTH_MODE === AuthMode.off && env.WEBSITE_INSTANCE_ID) {
    ctx.addIssue({ code: 'custom', path: ['AUTH_MODE'], message: 'must not be off when running in Azure (WEBSITE_INSTANCE_ID is set)' });
  }
  if (env.AUDIT_SIGNING_KEY && env[KEY_VAULT_KEY_ID]) {
    ctx.addIssue({
      code: 'custom',
      path: [KEY_VAULT_KEY_ID],
      message: 'must not be set together with AUDIT_SIGNING_KEY: checkpoints are signed by one key (Key Vault in Azure, a PEM key locally)',
    });
  }
});

/**
 * Every setting name the service parses (the schema's, and the two connections, parsed below with
 * their identity-based forms); test/unit/deployment/ checks infra/ and names.json against it.
 */
export const SETTING_NAMES: readonly string[] = [
  ...Object.keys(SettingsSchema.shape),
  names.connections.storage,
  names.connections.serviceBus,
];

type RegistrationEnv = z.infer<typeof RegistrationSchema>;

function registrationOf(env: RegistrationEnv) {
  return {
    transport: env.MESSAGING_TRANSPORT,
    queues: {
      endpointCreate: env.ENDPOINT_CREATE_QUEUE,
      endpointDelete: env.ENDPOINT_DELETE_QUEUE,
      auditEvents: env.AUDIT_EVENTS_DESTINATION,
    },
    redriveSchedule: env.REDRIVE_SCHEDULE,
    checkpointSchedule: env.AUDIT_CHECKPOINT_SCHEDULE,
    verificationSchedule: env.AUDIT_VERIFICATION_SCHEDULE,
  };
}

/** What function files read at import: the trigger kind, queue names and timer schedules. */
export type RegistrationSettings = ReturnType<typeof registrationOf>;

function settingsOf(env: z.infer<typeof SettingsSchema>, connections: { storage: StorageConnection; serviceBus?: ServiceBusConnection }) {
  return {
    ...registrationOf(env),
    /** The Storage account of the directory table (and of the queues when the transport is storage-queues). */
    storage: connections.storage,
    /** The Service Bus namespace; present whenever its settings are, required when the transport is service-bus. */
    serviceBus: connections.serviceBus,
    table: env.DIRECTORY_TABLE,
    partition: env.DIRECTORY_PARTITION,
    eventSource: env.EVENT_SOURCE ?? `/pchat-endpoints/${env.DIRECTORY_PARTITION}`,
    auditSigningKey: env.AUDIT_SIGNING_KEY?.replace(/\\n/g, '\n'),
    auditSigningKeyVaultKeyId: env[KEY_VAULT_KEY_ID],
    /** Verify-only keys (AUDIT_VERIFY_KEYS): retired signing keys' public keys; empty when unset. */
    auditVerifyKeys: env.AUDIT_VERIFY_KEYS ?? [],
    azureClientId: env[AZURE_CLIENT_ID],
    delivery: {
      redriveAfterMs: env.REDRIVE_AFTER_SECONDS * 1000,
      maxSends: env.REDRIVE_MAX_SENDS,
      maxDeliveries: env.MAX_DELIVERY_COUNT,
      idempotencyKeyTtlMs: env.IDEMPOTENCY_KEY_TTL_HOURS * 3_600_000,
    },
    limits: { auditExportRecords: env.AUDIT_EXPORT_MAX_RECORDS },
    auditWitnessContainer: env.AUDIT_WITNESS_CONTAINER,
    submissionRate: { limit: env.SUBMISSION_RATE_LIMIT, windowMs: env.SUBMISSION_RATE_WINDOW_SECONDS * 1000 },
    /**
     * PUBLIC_BASE_URL, else https://WEBSITE_HOSTNAME in Azure; undefined elsewhere, where the local
     * host fills in its own origin once it listens (compose falls back to http://localhost:7071).
     */
    publicBaseUrl: publicBaseUrlOf(env),
    auth: {
      mode: env.AUTH_MODE,
      apiKeys: (env.LOCAL_API_KEYS ?? []) as ApiKey[],
      runningInAzure: Boolean(env.WEBSITE_INSTANCE_ID),
    },
  };
}

/** Every setting the service reads. */
export type Settings = ReturnType<typeof settingsOf>;

/** zod's issues as the field errors a ConfigurationError carries. */
function fieldErrorsOf(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    pointer: `#/${issue.path.join('/')}`,
    detail: `${issue.path.join('.')}: ${issue.message}`,
  }));
}

/** Throws one ConfigurationError naming every bad setting, when there is any. */
function throwIfAny(errors: FieldError[]): void {
  if (errors.length === 0) return;
  throw new ConfigurationError(
    ErrorCode.invalidConfiguration,
    `invalid configuration:\n${errors.map((e) => `  - ${e.detail}`).join('\n')}`,
    {
      errors,
    },
  );
}

function parseWith<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.output<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) throwIfAny(fieldErrorsOf(parsed.error));
  return parsed.data as z.output<S>;
}

/** Parses every setting from an environment; throws ConfigurationError naming each bad one. */
export function parseSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const parsed = SettingsSchema.safeParse(env);
  const storage = storageConnectionFrom(env);
  const serviceBus = serviceBusConnectionFrom(env, { required: env[names.appSettings.transport]?.trim() === Transport.serviceBus });
  // Every bad setting in one error: the schema's, then the connections'.
  throwIfAny([...(parsed.success ? [] : fieldErrorsOf(parsed.error)), ...storage.errors, ...serviceBus.errors]);
  return settingsOf(parsed.data as z.infer<typeof SettingsSchema>, {
    storage: storage.connection as StorageConnection,
    ...(serviceBus.connection ? { serviceBus: serviceBus.connection } : {}),
  });
}

/** Parses PUBLIC_BASE_URL and WEBSITE_HOSTNAME alone (undefined when neither is set); throws ConfigurationError on a bad one. */
export function parsePublicBaseUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return publicBaseUrlOf(parseWith(PublicOriginSchema, env));
}

/** Parses the settings function registrations need; throws ConfigurationError naming each bad one. */
export function parseRegistrationSettings(env: NodeJS.ProcessEnv = process.env): RegistrationSettings {
  return registrationOf(parseWith(RegistrationSchema, env));
}

/**
 * The Storage connection one app setting (or its `__` family) names, for a binding's `connection`:
 * the local host's queue triggers resolve theirs here. Throws ConfigurationError naming the setting.
 */
export function parseStorageConnection(prefix: string, env: NodeJS.ProcessEnv = process.env): StorageConnection {
  const { connection, errors } = storageConnectionFrom(env, prefix);
  throwIfAny(errors);
  return connection as StorageConnection;
}

// ---------------------------------------------------------------------------------------------
// Connections: a connection string, or an identity-based connection in the Azure Functions
// conventions (<prefix>__accountName, <prefix>__tableServiceUri, <prefix>__fullyQualifiedNamespace,
// <prefix>__credential, <prefix>__clientId). Only the `__` separator is read: Functions reads `__`
// on every OS and `:` on Windows only, and this app runs on Linux (Flex Consumption).
// ---------------------------------------------------------------------------------------------

/** Which credential an identity-based connection uses: the managed identity only, or DefaultAzureCredential's chain. */
export type CredentialKind = 'managedidentity' | 'default';

/** Who an identity-based connection authenticates as. */
export interface ConnectionIdentity {
  kind: 'identity';
  /** `<prefix>__credential`: `managedidentity` for the app's managed identity only; unset, DefaultAzureCredential. */
  credential: CredentialKind;
  /** `<prefix>__clientId`, else AZURE_CLIENT_ID: a user-assigned managed identity's client id. */
  clientId?: string;
}

/** A Storage account: by a connection string (Azurite, a key), or by identity at its service URIs. */
export type StorageConnection =
  | { kind: 'connectionString'; value: string }
  | (ConnectionIdentity & {
      tableServiceUri: string;
      queueServiceUri: string;
      /** `<prefix>__blobServiceUri`, else built from the account name; absent when only the table and queue URIs are given (no blob witness). */
      blobServiceUri?: string;
    });

/** A Service Bus namespace: by a connection string, or by identity at its fully qualified host name. */
export type ServiceBusConnection = { kind: 'connectionString'; value: string } | (ConnectionIdentity & { fullyQualifiedNamespace: string });

/** Either identity-based connection: what a credential is built for. */
export type IdentityConnection = Extract<StorageConnection | ServiceBusConnection, { kind: 'identity' }>;

/** A connection parsed from its settings, or why not. */
interface ParsedConnection<C> {
  connection?: C;
  errors: FieldError[];
}

const SUFFIX = names.identityConnectionSuffixes;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Azure Storage account names: 3-24 lowercase letters and digits.
const STORAGE_ACCOUNT = /^[a-z0-9]{3,24}$/;
// A DNS name of at least two labels (RFC 1123), e.g. contoso-bus.servicebus.windows.net.
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;
// A loopback host with an optional port: a local emulator or a test peer.
const LOOPBACK_HOST_PORT = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d{1,5})?$/i;

/** Whether a URL host name is the loopback interface (where plain HTTP and emulator quirks are allowed). */
export function isLoopbackHost(hostname: string): boolean {
  return /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i.test(hostname);
}

const fieldError = (setting: string, rule: string): FieldError => ({ pointer: `#/${setting}`, detail: `${setting}: ${rule}` });

/** One setting's value, blank counting as unset (an app setting cannot be deleted from some tools, only emptied). */
function valueOf(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/** The identity of a `<prefix>__…` connection: which credential, and which user-assigned identity. */
function identityOf(env: NodeJS.ProcessEnv, prefix: string, errors: FieldError[]): ConnectionIdentity {
  const credentialSetting = prefix + SUFFIX.credential;
  const credentialValue = valueOf(env, credentialSetting);
  let credential: CredentialKind = 'default';
  if (credentialValue?.toLowerCase() === 'managedidentity') credential = 'managedidentity';
  else if (credentialValue !== undefined)
    errors.push(fieldError(credentialSetting, 'must be managedidentity, or unset for DefaultAzureCredential'));

  // The connection's own client id wins; AZURE_CLIENT_ID is the process-wide fallback the Azure SDKs read too.
  const ownSetting = prefix + SUFFIX.clientId;
  const clientIdSetting = valueOf(env, ownSetting) !== undefined ? ownSetting : names.appSettings.azureClientId;
  const clientId = valueOf(env, clientIdSetting);
  if (clientId !== undefined && !GUID.test(clientId)) errors.push(fieldError(clientIdSetting, 'must be a client id (a GUID)'));
  return { kind: 'identity', credential, ...(clientId !== undefined ? { clientId } : {}) };
}

/** Why a service URI is refused, or undefined when it is acceptable. */
function serviceUriProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an absolute URI, such as https://<account>.table.core.windows.net';
  }
  if (url.username || url.password) return 'must not carry a user name or password';
  // A query on a service URI is how a SAS token travels: a secret, which identity-based connections exist to avoid.
  if (url.search || url.hash) return 'must not carry a query (a SAS token) or a fragment';
  // No plain http, not even to loopback: the Azure SDKs send bearer tokens over TLS only (core-rest-pipeline's
  // bearer policy refuses any non-https URL, allowInsecureConnection or not), and Azurite accepts them only over https.
  if (url.protocol !== 'https:')
    return 'must be an https URI (bearer tokens are only sent over TLS; Azurite takes them over https with --oauth basic)';
  return undefined;
}

/** One service's URI: `<prefix>__<service>ServiceUri` as given, else built from `<prefix>__accountName`. */
function serviceUriOf(
  env: NodeJS.ProcessEnv,
  prefix: string,
  service: 'table' | 'queue',
  accountName: string | undefined,
  errors: FieldError[],
): string {
  const setting = prefix + (service === 'table' ? SUFFIX.tableServiceUri : SUFFIX.queueServiceUri);
  const uri = optionalServiceUriOf(env, setting, service, accountName, errors);
  if (uri !== undefined) return uri;
  errors.push(fieldError(setting, `is required when ${prefix}__accountName is not set (both service URIs, or the account name)`));
  return '';
}

/** A service's URI as given in `setting`, else built from the account name; undefined when neither is there. */
function optionalServiceUriOf(
  env: NodeJS.ProcessEnv,
  setting: string,
  service: 'table' | 'queue' | 'blob',
  accountName: string | undefined,
  errors: FieldError[],
): string | undefined {
  const given = valueOf(env, setting);
  if (given !== undefined) {
    const problem = serviceUriProblem(given);
    if (problem) errors.push(fieldError(setting, problem));
    return given.replace(/\/+$/, '');
  }
  if (accountName !== undefined) return `https://${accountName}.${service}.core.windows.net`;
  return undefined;
}

/** Whether any form of the Storage connection under `prefix` is set: its connection string or an identity-based setting. */
export function isStorageConfigured(env: NodeJS.ProcessEnv = process.env, prefix: string = names.connections.storage): boolean {
  // __blobServiceUri alone is not a connection this app can use (the table and queues are elsewhere).
  const forms = [prefix, prefix + SUFFIX.accountName, prefix + SUFFIX.tableServiceUri, prefix + SUFFIX.queueServiceUri];
  return forms.some((name) => valueOf(env, name) !== undefined);
}

/**
 * The Storage connection under `prefix`: the connection string `<prefix>` wins when set; else an
 * identity-based connection from `<prefix>__accountName` and/or `<prefix>__tableServiceUri` and
 * `<prefix>__queueServiceUri`, and `<prefix>__blobServiceUri` (also read by the Functions host) for the
 * blob witness of audit checkpoints: optional, built from the account name when that is given.
 */
export function storageConnectionFrom(
  env: NodeJS.ProcessEnv,
  prefix: string = names.connections.storage,
): ParsedConnection<StorageConnection> {
  const value = valueOf(env, prefix);
  if (value !== undefined) return { connection: { kind: 'connectionString', value }, errors: [] };

  const accountSetting = prefix + SUFFIX.accountName;
  const accountName = valueOf(env, accountSetting);
  const tableUri = valueOf(env, prefix + SUFFIX.tableServiceUri);
  const queueUri = valueOf(env, prefix + SUFFIX.queueServiceUri);
  if (accountName === undefined && tableUri === undefined && queueUri === undefined) {
    return {
      errors: [
        fieldError(
          prefix,
          `is required: a Storage connection string (UseDevelopmentStorage=true for Azurite), or an identity-based connection: ` +
            `${accountSetting}, or ${prefix}${SUFFIX.tableServiceUri} and ${prefix}${SUFFIX.queueServiceUri}`,
        ),
      ],
    };
  }
  const errors: FieldError[] = [];
  if (accountName !== undefined && !STORAGE_ACCOUNT.test(accountName))
    errors.push(fieldError(accountSetting, 'must be a storage account name (3-24 lowercase letters and digits)'));
  const validAccount = errors.length === 0 ? accountName : undefined;
  const tableServiceUri = serviceUriOf(env, prefix, 'table', validAccount, errors);
  const queueServiceUri = serviceUriOf(env, prefix, 'queue', validAccount, errors);
  const blobServiceUri = optionalServiceUriOf(env, prefix + SUFFIX.blobServiceUri, 'blob', validAccount, errors);
  const identity = identityOf(env, prefix, errors);
  return errors.length > 0
    ? { errors }
    : {
        connection: { ...identity, tableServiceUri, queueServiceUri, ...(blobServiceUri !== undefined ? { blobServiceUri } : {}) },
        errors,
      };
}

/**
 * The Service Bus connection under `prefix`: the connection string `<prefix>` wins when set; else
 * `<prefix>__fullyQualifiedNamespace` with an identity. Neither is an error only when `required`.
 */
export function serviceBusConnectionFrom(
  env: NodeJS.ProcessEnv,
  { required, prefix = names.connections.serviceBus }: { required: boolean; prefix?: string },
): ParsedConnection<ServiceBusConnection> {
  const value = valueOf(env, prefix);
  if (value !== undefined) return { connection: { kind: 'connectionString', value }, errors: [] };

  const namespaceSetting = prefix + SUFFIX.fullyQualifiedNamespace;
  const namespace = valueOf(env, namespaceSetting);
  if (namespace === undefined) {
    if (!required) return { errors: [] };
    return {
      errors: [
        fieldError(
          prefix,
          `is required when ${names.appSettings.transport} is ${Transport.serviceBus}: a Service Bus connection string, ` +
            `or an identity-based connection: ${namespaceSetting}`,
        ),
      ],
    };
  }
  const errors: FieldError[] = [];
  if (!DNS_NAME.test(namespace) && !LOOPBACK_HOST_PORT.test(namespace))
    errors.push(fieldError(namespaceSetting, 'must be a host name such as <namespace>.servicebus.windows.net, without sb:// or a path'));
  const identity = identityOf(env, prefix, errors);
  return errors.length > 0 ? { errors } : { connection: { ...identity, fullyQualifiedNamespace: namespace.toLowerCase() }, errors };
}
