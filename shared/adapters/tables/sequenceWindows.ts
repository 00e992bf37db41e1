import { GENESIS_HEAD, type AuditHead, type AuditRecord } from '../../domain/audit';
import type { PartitionTable } from './partitionTable';
import { rowKeys } from './rowKeys';

/** The first and last sequence of a time window. */
export interface SequenceWindow {
  first: number;
  last: number;
}

/**
 * Maps a time window to the sequences of its records. Times never decrease along the log
 * (appendToChain), so both ends are found by binary search on point reads of `audit|` rows.
 */
export class SequenceWindows {
  constructor(private readonly table: PartitionTable) {}

  /** The first record at or after `since` and the last at or before `until`; undefined when none lies between. */
  async of(since: string | undefined, until: string | undefined): Promise<SequenceWindow | undefined> {
    const head = (await this.table.value<AuditHead>(rowKeys.head)) ?? GENESIS_HEAD;
    const first = since === undefined ? 1 : await this.lowest(head, (time) => time >= since);
    const last = until === undefined ? head.sequence : (await this.lowest(head, (time) => time > until)) - 1;
    return first <= last ? { first, last } : undefined;
  }

  /** The lowest sequence in [1, head + 1] whose record's time satisfies `isAfter` (head + 1 if none does). */
  private async lowest(head: AuditHead, isAfter: (time: string) => boolean): Promise<number> {
    let low = 1;
    let high = head.sequence + 1;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      const time = (await this.table.value<AuditRecord>(rowKeys.audit(middle)))?.time;
      // A missing record (a damaged log) is treated as later, which keeps the search moving.
      if (time === undefined || isAfter(time)) high = middle;
      else low = middle + 1;
    }
    return low;
  }
}
