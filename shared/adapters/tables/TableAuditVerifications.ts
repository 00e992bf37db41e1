import { odata } from '@azure/data-tables';
import type { AuditVerificationRecord } from '../../domain/verificationRecord';
import type { AuditVerifications, StoredVerification, VersionedVerification } from '../../application/ports/auditVerifications';
import { parse, type PartitionTable } from './partitionTable';
import { rowKeys } from './rowKeys';

/** Verifications on Azure Table Storage: the `verified` row and one `verification|<id>` row per operation. */
export class TableAuditVerifications implements AuditVerifications {
  constructor(private readonly table: PartitionTable) {}

  async latest(): Promise<AuditVerificationRecord | undefined> {
    return this.table.value<AuditVerificationRecord>(rowKeys.verified);
  }

  async saveLatest(record: AuditVerificationRecord): Promise<void> {
    // Upsert: the first record creates the row, later ones replace it.
    if (!(await this.table.createIfAbsent(this.table.entity(rowKeys.verified, record))))
      await this.table.replaceIfPresent(this.table.entity(rowKeys.verified, record));
  }

  async create(operation: StoredVerification): Promise<void> {
    await this.table.createIfAbsent(this.entityOf(operation));
  }

  async get(id: string): Promise<VersionedVerification | undefined> {
    const row = await this.table.row(rowKeys.verification(id));
    const operation = parse<StoredVerification>(row);
    return row && operation ? { operation, etag: row.etag } : undefined;
  }

  async replace(operation: StoredVerification, etag: string): Promise<string> {
    return this.table.replaceIf(this.entityOf(operation), etag);
  }

  async running(): Promise<string[]> {
    const running = await this.table.values<StoredVerification>(rowKeys.verificationPrefix, 1000, {
      filter: odata`status eq ${'running'}`,
    });
    return running.map((operation) => operation.id);
  }

  /** The row, with its status as a column so the timer reads only running operations. */
  private entityOf(operation: StoredVerification) {
    return this.table.entity(rowKeys.verification(operation.id), operation, { status: operation.status });
  }
}
