import { odata } from '@azure/data-tables';
import type { DueRedrives, RedriveSchedule, ScheduledRedrive, UnreadableRedrive } from '../../application/ports/redriveSchedule';
import { scheduledRedriveEntity } from './entities';
import type { PartitionTable, StoredRow } from './partitionTable';
import { rowKeys } from './rowKeys';

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/** Why a waiting-list row's value is not a ScheduledRedrive the re-driver can act on, or undefined when it is one. */
function entryProblem(value: unknown): string | undefined {
  if (!isObject(value) || !isObject(value['changeRequest'])) return 'it holds no change request';
  const { changeRequest, redriveAt, sends } = value;
  const request = changeRequest['request'];
  if (typeof changeRequest['id'] !== 'string') return 'its change request has no id';
  if (
    !isObject(request) ||
    (request['operation'] !== 'create' && request['operation'] !== 'delete') ||
    typeof request['sipAddress'] !== 'string'
  )
    return 'its change request has no create or delete request';
  if (typeof changeRequest['ticket'] !== 'number') return 'its change request has no ticket';
  if (typeof redriveAt !== 'string' || typeof sends !== 'number') return 'it has no re-drive time or send count';
  return undefined;
}

/** A due row, decoded: the entry, or what makes it unreadable (one bad row must not fail the page it is on). */
function decodeRow(row: StoredRow): { entry: ScheduledRedrive } | { unreadable: UnreadableRedrive } {
  let value: unknown;
  try {
    value = JSON.parse(row.data);
  } catch {
    return { unreadable: { id: row.rowKey ?? '', changeRequestId: null, problem: 'its value is not JSON' } };
  }
  const problem = entryProblem(value);
  if (problem === undefined) return { entry: value as ScheduledRedrive };
  const id = isObject(value) && isObject(value['changeRequest']) ? value['changeRequest']['id'] : undefined;
  return { unreadable: { id: row.rowKey ?? '', changeRequestId: typeof id === 'string' ? id : null, problem } };
}

/** The re-drive schedule on Azure Table Storage: the waiting-list rows, filtered by their `redriveAt` column. */
export class TableRedriveSchedule implements RedriveSchedule {
  constructor(private readonly table: PartitionTable) {}

  async due(now: Date, limit: number): Promise<DueRedrives> {
    const due: DueRedrives = { entries: [], unreadable: [] };
    if (limit <= 0) return due;
    const filter = odata`redriveAt lt ${now.toISOString()}`;
    for await (const row of this.table.rows(rowKeys.waitingPrefix, { filter, pageSize: Math.min(limit, 1000) })) {
      const decoded = decodeRow(row);
      if ('entry' in decoded) due.entries.push(decoded.entry);
      else due.unreadable.push(decoded.unreadable);
      if (due.entries.length + due.unreadable.length >= limit) break;
    }
    return due;
  }

  async postpone(entry: ScheduledRedrive, redriveAt: Date): Promise<void> {
    const next: ScheduledRedrive = { ...entry, redriveAt: redriveAt.toISOString(), sends: entry.sends + 1 };
    // Replace, never upsert: a request settled meanwhile has left its waiting list and must not be put back.
    await this.table.replaceIfPresent(scheduledRedriveEntity(this.table, next));
  }

  async discard(id: string): Promise<void> {
    // Only waiting-list rows: the id comes back from `due`, but this must never delete anything else.
    if (id.startsWith(rowKeys.waitingPrefix)) await this.table.delete(id);
  }
}
