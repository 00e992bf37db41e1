import { isCheckpointEvent, type CloudEvent } from '../../application/events';
import type { Outbox } from '../../application/ports/outbox';
import type { PartitionTable } from './partitionTable';
import { rowKeys } from './rowKeys';

/** The row an event waits in: a record's event at `outbox|<sequence>`, a checkpoint's at `outbox|<sequence>|checkpoint`. */
export function outboxKeyOf(event: CloudEvent): string {
  return isCheckpointEvent(event) ? rowKeys.checkpointOutbox(event.data.sequence) : rowKeys.outbox(event.data.sequence);
}

/** The outbox on Azure Table Storage: `outbox|` rows, written by each commit, deleted once published. */
export class TableOutbox implements Outbox {
  constructor(private readonly table: PartitionTable) {}

  async pending(limit: number): Promise<CloudEvent[]> {
    return this.table.values<CloudEvent>(rowKeys.outboxPrefix, limit);
  }

  async markPublished(event: CloudEvent): Promise<void> {
    await this.table.delete(outboxKeyOf(event));
  }
}
