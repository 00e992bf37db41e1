import type { CloudEvent } from '../../application/events';
import type { Outbox } from '../../application/ports/outbox';
import type { PartitionTable } from './partitionTable';
import { rowKeys } from './rowKeys';

/** The outbox on Azure Table Storage: `outbox|<sequence>` rows, written by each commit, deleted once published. */
export class TableOutbox implements Outbox {
  constructor(private readonly table: PartitionTable) {}

  async pending(limit: number): Promise<CloudEvent[]> {
    return this.table.values<CloudEvent>(rowKeys.outboxPrefix, limit);
  }

  async markPublished(event: CloudEvent): Promise<void> {
    await this.table.delete(rowKeys.outbox(event.data.sequence));
  }
}
