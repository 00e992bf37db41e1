import type { TransactionAction } from '@azure/data-tables';
import { GENESIS_HEAD, type AuditHead, type AuditRecord } from '../../domain/audit';
import { ConcurrencyError } from '../../domain/errors';
import type { AuditCheckpoint, PositionedRecord } from '../../domain/auditVerification';
import { isCheckpointEvent, type CloudEvent } from '../../application/events';
import type { AuditLog, BlobWitnessStatus, CheckpointPage } from '../../application/ports/auditLog';
import { decodeCursor, encodeCursor } from './cursors';
import { parse, type PartitionTable, type StoredRow } from './partitionTable';
import { rowKeys } from './rowKeys';
import { outboxKeyOf } from './TableOutbox';
import type { PublishedOutboxRows } from './publishedOutbox';

/** The column of a checkpoint row saying whether the blob witness holds its copy (absent: made before there was one). */
const WITNESS_BLOB = 'witnessBlob';
/** When the blob witness's copy was written. */
const WITNESS_BLOB_AT = 'witnessBlobAt';

/** The blob witness status a checkpoint row records. */
function blobStatusOf(row: StoredRow): BlobWitnessStatus {
  const status = row[WITNESS_BLOB];
  return status === 'written' || status === 'pending' ? status : 'off';
}

/** The audit log on Azure Table Storage: `audit|` rows newest first, the head row, and `checkpoint|` rows. */
export class TableAuditLog implements AuditLog {
  constructor(
    private readonly table: PartitionTable,
    private readonly published: PublishedOutboxRows,
  ) {}

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

  async addCheckpoint(checkpoint: AuditCheckpoint, options: { event?: CloudEvent; blob?: BlobWitnessStatus } = {}): Promise<boolean> {
    const row = this.table.entity(rowKeys.checkpoint(checkpoint.sequence), checkpoint, {
      sequence: checkpoint.sequence,
      ...(options.blob ? { [WITNESS_BLOB]: options.blob } : {}),
    });
    if (!options.event) return this.table.createIfAbsent(row);
    // One entity-group transaction: a checkpoint is never stored without its event waiting to be published.
    const actions: TransactionAction[] = [
      ['create', row],
      ['create', this.table.entity(outboxKeyOf(options.event), options.event)],
    ];
    try {
      await this.table.transact(actions);
      return true;
    } catch (error) {
      // Another timer stored this checkpoint (and its event) first: it is kept as it is.
      if (error instanceof ConcurrencyError) return false;
      throw error;
    }
  }

  async checkpointPage(limit: number, cursor?: string): Promise<CheckpointPage> {
    const after = decodeCursor(cursor, rowKeys.checkpointPrefix);
    const rows: StoredRow[] = [];
    let more = false;
    for await (const row of this.table.rows(rowKeys.checkpointPrefix, { after, pageSize: Math.min(limit + 1, 1000) })) {
      if (rows.length === limit) {
        more = true;
        break;
      }
      rows.push(row);
    }
    const pending = await this.pendingCheckpointEvents(rows);
    return {
      items: rows.map((row) => {
        const checkpoint = parse<AuditCheckpoint>(row) as AuditCheckpoint;
        return { checkpoint, event: pending.has(checkpoint.sequence) ? 'pending' : 'published', blob: blobStatusOf(row) };
      }),
      nextCursor: more && rows.length > 0 ? encodeCursor(rows[rows.length - 1]!.rowKey) : null,
    };
  }

  async checkpointsAwaitingBlob(limit: number): Promise<AuditCheckpoint[]> {
    // The timer writes the blob copies oldest first and stops at the first failure, so the
    // checkpoints still pending are the newest run: the scan stops at the first one that is not.
    const run: AuditCheckpoint[] = [];
    for await (const row of this.table.rows(rowKeys.checkpointPrefix, { pageSize: 100 })) {
      if (blobStatusOf(row) !== 'pending') break;
      run.push(parse<AuditCheckpoint>(row) as AuditCheckpoint);
    }
    return run.reverse().slice(0, limit);
  }

  async markBlobWritten(sequence: number, at: string): Promise<void> {
    const row = await this.table.row(rowKeys.checkpoint(sequence));
    if (!row) return;
    const checkpoint = parse<AuditCheckpoint>(row) as AuditCheckpoint;
    await this.table.replaceIfPresent(
      this.table.entity(row.rowKey, checkpoint, { sequence: checkpoint.sequence, [WITNESS_BLOB]: 'written', [WITNESS_BLOB_AT]: at }),
    );
  }

  /**
   * The sequences among `rows` whose checkpoint event still waits in the outbox (one scan of the
   * outbox's range); a row whose event this process published, waiting for its delete, is not waiting.
   */
  private async pendingCheckpointEvents(rows: StoredRow[]): Promise<Set<number>> {
    const pending = new Set<number>();
    if (rows.length === 0) return pending;
    const sequences = rows.map((row) => Number(row.sequence));
    const from = rowKeys.checkpointOutbox(Math.min(...sequences));
    const to = rowKeys.checkpointOutbox(Math.max(...sequences));
    for await (const row of this.table.rows(rowKeys.outboxPrefix, { from, to })) {
      const event = parse<CloudEvent>(row) as CloudEvent;
      if (isCheckpointEvent(event) && !this.published.has(row.rowKey)) pending.add(event.data.sequence);
    }
    return pending;
  }
}
