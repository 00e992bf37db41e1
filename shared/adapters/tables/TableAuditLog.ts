import { GENESIS_HEAD, type AuditHead, type AuditRecord } from '../../domain/audit';
import type { AuditCheckpoint, PositionedRecord } from '../../domain/auditVerification';
import type { AuditLog } from '../../application/ports/auditLog';
import { parse, type PartitionTable } from './partitionTable';
import { rowKeys } from './rowKeys';

/** The audit log on Azure Table Storage: `audit|` rows newest first, the head row, and `checkpoint|` rows. */
export class TableAuditLog implements AuditLog {
  constructor(private readonly table: PartitionTable) {}

  async head(): Promise<AuditHead> {
    return (await this.table.value<AuditHead>(rowKeys.head)) ?? GENESIS_HEAD;
  }

  async *records(): AsyncIterable<PositionedRecord> {
    for await (const row of this.table.rows(rowKeys.auditPrefix)) {
      yield { position: rowKeys.auditPosition(row.rowKey), record: parse<AuditRecord>(row) as AuditRecord };
    }
  }

  async *recordsDown(from: number, to: number): AsyncIterable<PositionedRecord> {
    // Inverted keys: the newest (`from`) has the lowest key, so the range runs from it up to `to`'s.
    const range = { from: rowKeys.audit(from), to: rowKeys.audit(to) };
    for await (const row of this.table.rows(rowKeys.auditPrefix, range)) {
      yield { position: rowKeys.auditPosition(row.rowKey), record: parse<AuditRecord>(row) as AuditRecord };
    }
  }

  async record(sequence: number): Promise<AuditRecord | undefined> {
    return this.table.value<AuditRecord>(rowKeys.audit(sequence));
  }

  async checkpoints(limit = Number.MAX_SAFE_INTEGER): Promise<AuditCheckpoint[]> {
    return this.table.values<AuditCheckpoint>(rowKeys.checkpointPrefix, limit);
  }

  async addCheckpoint(checkpoint: AuditCheckpoint): Promise<void> {
    await this.table.createIfAbsent(
      this.table.entity(rowKeys.checkpoint(checkpoint.sequence), checkpoint, { sequence: checkpoint.sequence }),
    );
  }
}
