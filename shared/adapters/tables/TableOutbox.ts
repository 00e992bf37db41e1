import { isCheckpointEvent, type CloudEvent } from '../../application/events';
import type { Outbox } from '../../application/ports/outbox';
import type { PartitionTable } from './partitionTable';
import type { PublishedOutboxRows } from './publishedOutbox';
import { rowKeys } from './rowKeys';

/** The row an event waits in: a record's event at `outbox|<sequence>`, a checkpoint's at `outbox|<sequence>|checkpoint`. */
export function outboxKeyOf(event: CloudEvent): string {
  return isCheckpointEvent(event) ? rowKeys.checkpointOutbox(event.data.sequence) : rowKeys.outbox(event.data.sequence);
}

/**
 * The outbox on Azure Table Storage: `outbox|` rows, written by each commit, deleted once published
 * (by the next commit when it can carry the delete, see PublishedOutboxRows).
 */
export class TableOutbox implements Outbox {
  constructor(
    private readonly table: PartitionTable,
    private readonly published: PublishedOutboxRows,
  ) {}

  async pending(limit: number): Promise<CloudEvent[]> {
    // Rows of events this process published, waiting for their delete, are not pending. Asking for
    // as many more as there are such rows keeps the answer `limit` long.
    const rows = await this.table.values<CloudEvent>(rowKeys.outboxPrefix, limit + this.published.size);
    return rows.filter((event) => !this.published.has(outboxKeyOf(event))).slice(0, limit);
  }

  async markPublished(event: CloudEvent): Promise<void> {
    await this.table.delete(outboxKeyOf(event));
  }

  markPublishedLater(event: CloudEvent): void {
    this.published.add(outboxKeyOf(event));
  }
}
