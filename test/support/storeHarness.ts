import type { KeyObject } from 'node:crypto';
import { TableClient, odata, type TableEntityResult } from '@azure/data-tables';
import { pemCheckpointSigning } from '../../shared/adapters/localKey/pemCheckpointSigning';
import type { CheckpointSigning } from '../../shared/composition/compose';
import { DeploymentNames } from '../../shared/settings';
import { InMemoryMessageBus } from '../../shared/adapters/memory/InMemoryMessageBus';
import { StorageQueueRules } from '../../shared/adapters/transportRules';
import { systemClock, uuidv7Ids } from '../../shared/adapters/system';
import { openTableStore, type TableStore } from '../../shared/adapters/tables/tableStore';
import type { DirectoryTableClient } from '../../shared/adapters/tables/partitionTable';
import type { ServiceDependencies } from '../../shared/application/dependencies';
import { DEFAULT_DELIVERY_POLICY, type DeliveryPolicy } from '../../shared/application/deliveryPolicy';
import { RateLimiter } from '../../shared/application/rateLimiter';
import { KeyedMutex } from '../../shared/application/keyedMutex';
import type { Clock, LogFields, Logger } from '../../shared/application/ports/system';
import { openTelemetryTracing } from '../../shared/adapters/tracing';

/** One line a recording logger was told: its level, message and fields (bound ones included). */
export interface RecordedLine {
  level: 'info' | 'warn';
  message: string;
  fields: Record<string, unknown>;
}

/** What a recording logger keeps: messages by level, and every line with its fields. */
export interface RecordingLog extends Logger {
  infos: string[];
  warnings: string[];
  lines: RecordedLine[];
}

/**
 * A logger that keeps what it was told, so a test can see what was logged. Its children (`with`)
 * record into the same lists, with their bound fields on each line.
 */
export function recordingLog(): RecordingLog {
  const infos: string[] = [];
  const warnings: string[] = [];
  const lines: RecordedLine[] = [];
  const child = (bound: LogFields): Logger => ({
    info: (message, data) => {
      infos.push(message);
      lines.push({ level: 'info', message, fields: { ...bound, ...data } });
    },
    warn: (message, data) => {
      warnings.push(message);
      lines.push({ level: 'warn', message, fields: { ...bound, ...data } });
    },
    with: (fields) => child({ ...bound, ...fields }),
  });
  return { infos, warnings, lines, ...child({}) };
}

/** A clock the test sets by hand, so stored times are known exactly. */
export class ManualClock implements Clock {
  private current: number;
  constructor(start = '2024-05-01T10:00:00.000Z') {
    this.current = Date.parse(start);
  }
  now(): Date {
    return new Date(this.current);
  }
  set(iso: string): void {
    this.current = Date.parse(iso);
  }
}

/** Use-case dependencies over a table of their own in Azurite, with an in-memory bus standing in for Storage queues. */
export interface StoreHarness extends ServiceDependencies {
  /** The raw table, for tests that look at (or tamper with) rows directly. */
  table: TableClient;
  bus: InMemoryMessageBus;
  log: RecordingLog;
}

let tableCount = 0;

/** A fresh table name (letters and digits only), unique within this process. */
export function freshTableName(prefix = 'directory'): string {
  tableCount += 1;
  return `${prefix}${process.pid}x${tableCount}`;
}

/** Options for a harness: its partition, clock, delivery policy and signing key, or a client wrapper that counts or faults. */
export interface HarnessOptions {
  partition?: string;
  clock?: Clock;
  delivery?: DeliveryPolicy;
  /** A local private key that signs (and verifies) checkpoints, as AUDIT_SIGNING_KEY would. */
  signingKey?: KeyObject;
  /** Or any signer and key ring (a Key Vault one, a ring of several). */
  signing?: CheckpointSigning;
  wrapClient?: (client: TableClient) => DirectoryTableClient;
}

/** The role adapters over a fresh table (created), as the composition root wires them. */
export async function newTableStore(
  connectionString: string,
  options: Pick<HarnessOptions, 'partition' | 'wrapClient'> = {},
): Promise<TableStore & { table: TableClient }> {
  const table = TableClient.fromConnectionString(connectionString, freshTableName(), { allowInsecureConnection: true });
  const store = await openTableStore(options.wrapClient ? options.wrapClient(table) : table, options.partition ?? 'default');
  return { ...store, table };
}

/** Every row of one partition, as stored (ETag and columns included), in key order. */
export async function partitionRows(table: TableClient, partition: string): Promise<Array<TableEntityResult<Record<string, unknown>>>> {
  const rows: Array<TableEntityResult<Record<string, unknown>>> = [];
  for await (const row of table.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${partition}` } })) {
    rows.push(row);
  }
  return rows;
}

/** Every dependency the use cases take, over a fresh Azurite table and an in-memory bus. */
export async function newStoreHarness(connectionString: string, options: HarnessOptions = {}): Promise<StoreHarness> {
  const store = await newTableStore(connectionString, options);
  return {
    ...store,
    bus: new InMemoryMessageBus(StorageQueueRules),
    clock: options.clock ?? systemClock,
    ids: uuidv7Ids,
    log: recordingLog(),
    tracing: openTelemetryTracing(),
    mutex: new KeyedMutex(),
    eventSource: '/test',
    delivery: options.delivery ?? DEFAULT_DELIVERY_POLICY,
    limits: { auditExportRecords: 100_000 },
    submissionLimiter: new RateLimiter({ limit: 1_000_000, windowMs: 60_000 }, systemClock),
    ...(options.signing ?? (options.signingKey ? localSigning(options.signingKey) : {})),
  };
}

/** The signer and key ring of a local private key, built as the composition root builds them from AUDIT_SIGNING_KEY. */
export function localSigning(privateKey: KeyObject): Required<CheckpointSigning> {
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const { signer, keyRing } = pemCheckpointSigning(pem, DeploymentNames.appSettings.auditSigningKey);
  return { checkpointSigner: signer, checkpointKeys: keyRing };
}
