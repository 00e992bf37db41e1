import type { ServiceDependencies } from '../../application/dependencies';
import type { Logger } from '../../application/ports/system';
import { migrateToCurrentLayout } from './canonicalAddressMigration';
import { PartitionTable, type DirectoryTableClient } from './partitionTable';
import { TableAdmissions } from './TableAdmissions';
import { TableAuditLog } from './TableAuditLog';
import { TableAuditSearch } from './TableAuditSearch';
import { TableAuditVerifications } from './TableAuditVerifications';
import { TableDirectory } from './TableDirectory';
import { TableDirectoryQueries } from './TableDirectoryQueries';
import { TableOutbox } from './TableOutbox';
import { PublishedOutboxRows } from './publishedOutbox';
import { TableRedriveSchedule } from './TableRedriveSchedule';

/** Every storage role port, over one partition of one table. */
export type TableStore = Pick<
  ServiceDependencies,
  'directory' | 'admissions' | 'redrives' | 'auditLog' | 'auditSearch' | 'auditVerifications' | 'outbox' | 'queries'
>;

/** The role adapters of one deployment's partition: one table, one partition, one row layout (rowKeys.ts). */
export function createTableStore(client: DirectoryTableClient, partitionKey: string): TableStore {
  const table = new PartitionTable(client, partitionKey);
  // Shared by the directory (whose commits carry their deletes), the outbox (which marks them) and the audit log (which lists them).
  const published = new PublishedOutboxRows(table);
  const directory = new TableDirectory(table, published);
  return {
    directory,
    // A request admitted first in its line here is one this process's writer need not look up.
    admissions: new TableAdmissions(table, (admitted) => directory.admittedFirstInLine(admitted)),
    redrives: new TableRedriveSchedule(table),
    auditLog: new TableAuditLog(table, published),
    auditSearch: new TableAuditSearch(table),
    auditVerifications: new TableAuditVerifications(table),
    outbox: new TableOutbox(table, published),
    queries: new TableDirectoryQueries(table),
  };
}

/** Logs nothing: for callers that have no log to give. */
const silent: Logger = { info: () => undefined, warn: () => undefined, with: () => silent };

/**
 * Creates the table if it does not exist yet, brings the partition to the current row layout (a
 * no-op once its head says so; see canonicalAddressMigration.ts), then builds the role adapters over it.
 */
export async function openTableStore(client: DirectoryTableClient, partitionKey: string, log: Logger = silent): Promise<TableStore> {
  const table = new PartitionTable(client, partitionKey);
  await table.ensureTable();
  await migrateToCurrentLayout(table, log);
  return createTableStore(client, partitionKey);
}
