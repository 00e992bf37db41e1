import { odata, type TableClient, type TableEntity, type TableEntityResult, type TransactionAction } from '@azure/data-tables';
import { ErrorCode, ConcurrencyError, UnavailableError } from '../../domain/errors';
import { isStorageOutage, statusOf } from '../azureErrors';
import { prefixEnd } from './rowKeys';

/** The slice of TableClient the adapters use, so a test can hand them a fake. */
export type DirectoryTableClient = Pick<
  TableClient,
  'createTable' | 'getEntity' | 'createEntity' | 'updateEntity' | 'deleteEntity' | 'listEntities' | 'submitTransaction'
>;

/** Every row: the value as JSON, plus the columns queries filter on. */
export type Row = TableEntity<{ data: string; [column: string]: unknown }>;

/** A row as read back, with its ETag. */
export type StoredRow = TableEntityResult<Row>;

/** How to scan rows under a prefix, in key order. */
export interface ScanOptions {
  /** Start after this key (exclusive): a cursor's position. */
  after?: string;
  /** Start at this key (inclusive). */
  from?: string;
  /** Stop at this key (inclusive); otherwise at the prefix's end. */
  to?: string;
  /** More OData clauses, applied by the service. */
  filter?: string;
  /** Rows per round trip: no more than the caller will use. */
  pageSize?: number;
}

/** Whether a storage error says another writer got there first (a row created, or an ETag moved). */
export const isRace = (error: unknown): boolean => statusOf(error) === 409 || statusOf(error) === 412;

/** Vendor errors become ours: a lost race is ConcurrencyError, an outage UnavailableError; anything else (a bug) passes through. */
export function translate(error: unknown): unknown {
  if (statusOf(error) === 412)
    return new ConcurrencyError(ErrorCode.concurrentChange, 'another writer changed the row first', { cause: error });
  if (isStorageOutage(error)) return new UnavailableError(ErrorCode.serviceUnavailable, 'table storage is unavailable', { cause: error });
  return error;
}

/** The value a row holds, or undefined for no row. */
export function parse<T>(row: { data?: unknown } | undefined): T | undefined {
  return row && typeof row.data === 'string' ? (JSON.parse(row.data) as T) : undefined;
}

/**
 * One deployment's partition of the directory table: the row reads, scans and writes every role
 * adapter shares, with vendor errors translated once here.
 */
export class PartitionTable {
  constructor(
    private readonly client: DirectoryTableClient,
    readonly partitionKey: string,
  ) {}

  /** Creates the table if it does not exist yet. */
  async ensureTable(): Promise<void> {
    try {
      await this.client.createTable();
    } catch (error) {
      if (statusOf(error) !== 409) throw translate(error);
    }
  }

  /** One row, or undefined. */
  async row(rowKey: string): Promise<StoredRow | undefined> {
    return this.ignoringMissing(this.client.getEntity<Row>(this.partitionKey, rowKey));
  }

  /** The value one row holds, or undefined. */
  async value<T>(rowKey: string): Promise<T | undefined> {
    return parse<T>(await this.row(rowKey));
  }

  /** Rows under `prefix`, in key order. */
  async *rows(prefix: string, options: ScanOptions = {}): AsyncGenerator<StoredRow> {
    const lower = options.after ? odata`RowKey gt ${options.after}` : odata`RowKey ge ${options.from ?? prefix}`;
    const upper = options.to ? odata`RowKey le ${options.to}` : odata`RowKey lt ${prefixEnd(prefix)}`;
    const clauses = [odata`PartitionKey eq ${this.partitionKey}`, lower, upper];
    if (options.after && options.from) clauses.push(odata`RowKey ge ${options.from}`);
    if (options.filter) clauses.push(`(${options.filter})`);
    try {
      const pages = this.client
        .listEntities<Row>({ queryOptions: { filter: clauses.join(' and ') } })
        .byPage({ maxPageSize: options.pageSize ?? 1000 });
      for await (const page of pages) yield* page;
    } catch (error) {
      throw translate(error);
    }
  }

  /** The values of the first `limit` rows under `prefix`. */
  async values<T>(prefix: string, limit: number, options: ScanOptions = {}): Promise<T[]> {
    const found: T[] = [];
    if (limit <= 0) return found;
    for await (const row of this.rows(prefix, { pageSize: Math.min(limit, 1000), ...options })) {
      found.push(parse<T>(row) as T);
      if (found.length >= limit) break;
    }
    return found;
  }

  /** Whether any row lies under `prefix`. */
  async any(prefix: string): Promise<boolean> {
    return (await this.values(prefix, 1)).length > 0;
  }

  /**
   * A row of this partition holding `value` as JSON, plus the given filter columns. U+2028 and
   * U+2029 are written as JSON escapes (the same value when parsed): Azurite's batch parser ends an
   * entity's body at either, and then fails every later transaction until it restarts.
   */
  entity(rowKey: string, value: unknown, columns: Record<string, unknown> = {}): Row {
    const data = JSON.stringify(value)
      .replace(/\u2028/g, '\\u2028')
      .replace(/\u2029/g, '\\u2029');
    return { partitionKey: this.partitionKey, rowKey, data, ...columns };
  }

  /** The key of a row of this partition, for deletes. */
  key(rowKey: string): { partitionKey: string; rowKey: string } {
    return { partitionKey: this.partitionKey, rowKey };
  }

  /**
   * Submits one entity-group transaction, answering the new ETag each action left (in the order of
   * the actions, as the service answers; none for a delete); a race (409, 412) is ConcurrencyError.
   */
  async transact(actions: TransactionAction[]): Promise<Array<string | undefined>> {
    try {
      const response = await this.client.submitTransaction(actions);
      return response.subResponses.map(({ etag }) => etag?.trim());
    } catch (error) {
      if (isRace(error)) throw new ConcurrencyError(ErrorCode.concurrentChange, 'another writer committed first', { cause: error });
      throw translate(error);
    }
  }

  /** Creates a row; false when it already exists. */
  async createIfAbsent(entity: Row): Promise<boolean> {
    try {
      await this.client.createEntity(entity);
      return true;
    } catch (error) {
      if (statusOf(error) === 409) return false;
      throw translate(error);
    }
  }

  /** Replaces a row that exists; nothing when it is gone (never re-creates it). */
  async replaceIfPresent(entity: Row): Promise<void> {
    await this.ignoringMissing(this.client.updateEntity(entity, 'Replace', { etag: '*' }));
  }

  /** Replaces a row if it is still at `etag`, answering its new ETag; ConcurrencyError when another writer moved it (or it is gone). */
  async replaceIf(entity: Row, etag: string): Promise<string> {
    try {
      const response = await this.client.updateEntity(entity, 'Replace', { etag });
      return response.etag?.trim() ?? '';
    } catch (error) {
      if (statusOf(error) === 404 || isRace(error))
        throw new ConcurrencyError(ErrorCode.concurrentChange, 'another writer changed the row first', { cause: error });
      throw translate(error);
    }
  }

  /** Deletes a row; deleting one already gone is fine. */
  async delete(rowKey: string): Promise<void> {
    await this.ignoringMissing(this.client.deleteEntity(this.partitionKey, rowKey));
  }

  private async ignoringMissing<T>(promise: Promise<T>): Promise<T | undefined> {
    try {
      return await promise;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw translate(error);
    }
  }
}
