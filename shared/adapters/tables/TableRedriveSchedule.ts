import { odata } from '@azure/data-tables';
import type { RedriveSchedule, ScheduledRedrive } from '../../application/ports/redriveSchedule';
import { scheduledRedriveEntity } from './entities';
import type { PartitionTable } from './partitionTable';
import { rowKeys } from './rowKeys';

/** The re-drive schedule on Azure Table Storage: the waiting-list rows, filtered by their `redriveAt` column. */
export class TableRedriveSchedule implements RedriveSchedule {
  constructor(private readonly table: PartitionTable) {}

  async due(now: Date, limit: number): Promise<ScheduledRedrive[]> {
    return this.table.values<ScheduledRedrive>(rowKeys.waitingPrefix, limit, { filter: odata`redriveAt lt ${now.toISOString()}` });
  }

  async postpone(entry: ScheduledRedrive, redriveAt: Date): Promise<void> {
    const next: ScheduledRedrive = { ...entry, redriveAt: redriveAt.toISOString(), sends: entry.sends + 1 };
    // Replace, never upsert: a request settled meanwhile has left its waiting list and must not be put back.
    await this.table.replaceIfPresent(scheduledRedriveEntity(this.table, next));
  }
}
