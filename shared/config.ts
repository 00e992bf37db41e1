import { z } from 'zod';

/** The messaging transports the queue-triggered functions can bind to. */
export const Transport = { storageQueues: 'storage-queues', serviceBus: 'service-bus' } as const;
export type Transport = (typeof Transport)[keyof typeof Transport];

const name = (fallback: string) => z.string().trim().min(1).default(fallback);

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
