import { z } from 'zod';
import { DEFAULT_RELIABILITY } from './application/reliability';

/** The messaging transports the queue-triggered functions can bind to. */
export const Transport = { storageQueues: 'storage-queues', serviceBus: 'service-bus' } as const;
export type Transport = (typeof Transport)[keyof typeof Transport];

const name = (fallback: string) => z.string().trim().min(1).default(fallback);
const count = (fallback: number, max: number) => z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(max, `must be at most ${max}`).default(fallback);

/**
 * The service's settings, parsed from the environment (app settings in Azure) once, failing fast.
 * Each setting is named here and once in infra/.
 */
export const ConfigSchema = z
  .object({
    /** Storage connection for the directory table (and the queues when the transport is storage-queues). */
    AzureWebJobsStorage: z.string({ error: 'is required: a Storage connection string (UseDevelopmentStorage=true for Azurite)' }).min(1),
    /** Which transport carries endpoint change requests and audit events. */
    MESSAGING_TRANSPORT: z.enum([Transport.storageQueues, Transport.serviceBus]).default(Transport.storageQueues),
    /** The Service Bus connection string; required when the transport is service-bus. */
    ServiceBusConnection: z.string().min(1).optional(),
    DIRECTORY_TABLE: z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, 'must be a valid table name').default('directory'),
    /** One deployment's directory is one partition; a second deployment is a second partition. */
    DIRECTORY_PARTITION: name('default'),
    ENDPOINT_CREATE_QUEUE: name('endpoint-create'),
    ENDPOINT_DELETE_QUEUE: name('endpoint-delete'),
    /** A Storage queue, or a Service Bus topic, for audit events. */
    AUDIT_EVENTS_DESTINATION: name('audit-events'),
    /** The CloudEvents `source` of this deployment's events. */
    EVENT_SOURCE: z.string().min(1).optional(),
    /** When the re-drive timer runs (6-field NCRONTAB, UTC): outbox events and waiting requests. */
    REDRIVE_SCHEDULE: name('*/10 * * * * *'),
    /** Seconds an accepted request may wait before the re-driver sends its message again (doubling per send). */
    REDRIVE_AFTER_SECONDS: count(DEFAULT_RELIABILITY.redriveAfterMs / 1000, 86_400),
    /** Sends of one request's message before it is settled as failed (undeliverable). */
    REDRIVE_MAX_SENDS: count(DEFAULT_RELIABILITY.maxSends, 1000),
    /** Deliveries before a message is set aside; must equal host.json maxDequeueCount and the Service Bus queues' maxDeliveryCount. */
    MAX_DELIVERY_COUNT: count(DEFAULT_RELIABILITY.maxDeliveries, 100),
    /** The Ed25519 private key (PKCS#8 PEM; `\n` escapes allowed) that signs audit checkpoints. */
    AUDIT_SIGNING_KEY: z.string().min(1).optional(),
    /** When the checkpoint timer signs the audit head (6-field NCRONTAB, UTC). */
    AUDIT_CHECKPOINT_SCHEDULE: name('0 */5 * * * *'),
    /** Hours an Idempotency-Key answers retries with the original result. */
    IDEMPOTENCY_KEY_TTL_HOURS: count(DEFAULT_RELIABILITY.idempotencyKeyTtlMs / 3_600_000, 24 * 30),
  })
  .superRefine((config, ctx) => {
    if (config.MESSAGING_TRANSPORT === Transport.serviceBus && !config.ServiceBusConnection) {
      ctx.addIssue({ code: 'custom', path: ['ServiceBusConnection'], message: 'is required when MESSAGING_TRANSPORT is service-bus' });
    }
  })
  .transform((config) => ({
    storageConnection: config.AzureWebJobsStorage,
    transport: config.MESSAGING_TRANSPORT,
    serviceBusConnection: config.ServiceBusConnection,
    table: config.DIRECTORY_TABLE,
    partition: config.DIRECTORY_PARTITION,
    queues: { endpointCreate: config.ENDPOINT_CREATE_QUEUE, endpointDelete: config.ENDPOINT_DELETE_QUEUE, auditEvents: config.AUDIT_EVENTS_DESTINATION },
    eventSource: config.EVENT_SOURCE ?? `/pchat-endpoints/${config.DIRECTORY_PARTITION}`,
    redriveSchedule: config.REDRIVE_SCHEDULE,
    auditSigningKey: config.AUDIT_SIGNING_KEY?.replace(/\\n/g, '\n'),
    checkpointSchedule: config.AUDIT_CHECKPOINT_SCHEDULE,
    reliability: {
      redriveAfterMs: config.REDRIVE_AFTER_SECONDS * 1000,
      maxSends: config.REDRIVE_MAX_SENDS,
      maxDeliveries: config.MAX_DELIVERY_COUNT,
      idempotencyKeyTtlMs: config.IDEMPOTENCY_KEY_TTL_HOURS * 3_600_000,
    },
  }));
export type Config = z.infer<typeof ConfigSchema>;

/** The app-setting names the function bindings refer to (binding `connection` values). */
export const ConnectionSetting = { storage: 'AzureWebJobsStorage', serviceBus: 'ServiceBusConnection' } as const;

/** Raised when the environment does not make a valid configuration; names each bad setting. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the configuration from an environment. */
export function parseConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  return parsed.data;
}

let current: Config | undefined;

/** The process's configuration, parsed on first use. */
export function config(): Config {
  current ??= parseConfig();
  return current;
}
