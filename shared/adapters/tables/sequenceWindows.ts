import { odata } from '@azure/data-tables';
import { GENESIS_HEAD, type AuditHead } from '../../domain/audit';
import type { PartitionTable } from './partitionTable';
import { rowKeys } from './rowKeys';

/** The first and last sequence of a time window. */
export interface SequenceWindow {
  first: number;
  last: number;
}

/**
 * The most rows the last step scans for one end. Azure evaluates a filter on a column other than the
 * keys by reading rows, so it is bounded by this key range, not by the log: well inside the five
 * seconds a query may run before it answers with a continuation.
 */
const SCAN_ROWS = 100;

/**
 * Rounds of point reads before the scans, whatever the log's length (up to about a million records,
 * see MAX_PROBES_PER_ROUND): each splits what is left into about √(n / SCAN_ROWS) parts. Fewer rounds
 * take many more reads (one round: n / SCAN_ROWS), more rounds more round trips.
 */
const PROBE_ROUNDS = 2;

/**
 * The most point reads one end sends at once, so (101² × 100 records) a million records still take
 * two rounds. Beyond, a search takes more rounds rather than more reads at once: every read lands on
 * the deployment's one partition, which the writer shares.
 */
const MAX_PROBES_PER_ROUND = 100;

/**
 * A search for the lowest sequence in [low, high] whose record is after `time` (at or after it when
 * `inclusive`), high when none below it is. Every audit row carries its record's time as a column
 * (auditEntities), which both the point reads and the scans compare.
 */
interface Search {
  low: number;
  high: number;
  time: string;
  inclusive: boolean;
}

/** Whether a record's time (undefined when the record is missing) puts it after the search's time. */
function isAfter(search: Search, time: unknown): boolean {
  // A missing record (a damaged log) is treated as later, which keeps the search moving.
  if (typeof time !== 'string') return true;
  return search.inclusive ? time >= search.time : time > search.time;
}

/** The OData clause for records not after the search's time: the complement of isAfter for a record that exists. */
function notAfterClause(search: Search): string {
  return search.inclusive ? odata`time lt ${search.time}` : odata`time le ${search.time}`;
}

/** The smallest number of parts that, in `rounds` rounds, leave at most SCAN_ROWS of `candidates`. */
function partsFor(candidates: number, rounds: number): number {
  const needed = Math.ceil(candidates / SCAN_ROWS);
  let parts = Math.max(2, Math.floor(needed ** (1 / rounds)));
  while (parts ** rounds < needed) parts++;
  return Math.min(parts, MAX_PROBES_PER_ROUND + 1);
}

/** The sequences a round reads for one search: the last candidate of each part but the last, in ascending order. */
function probesOf(search: Search, roundsLeft: number): number[] {
  const candidates = search.high - search.low + 1;
  const parts = partsFor(candidates, roundsLeft);
  return Array.from({ length: parts - 1 }, (_, part) => search.low + Math.floor(((part + 1) * candidates) / parts) - 1);
}

/** Narrows a search to the part its answer lies in: after the last probe not after its time, up to the first that is. */
function narrow(search: Search, probes: number[], times: Map<number, unknown>): void {
  for (const sequence of probes) {
    if (isAfter(search, times.get(sequence))) {
      search.high = sequence;
      return;
    }
    search.low = sequence + 1;
  }
}

/**
 * Maps a time window to the sequences of its records, in a fixed number of round trips. Times never
 * decrease along the log (appendToChain), so each end is found by a k-ary search: after the head, two
 * rounds of point reads of evenly spaced `audit|` rows, each round's reads sent together (both ends
 * search together; a row both want is read once), leave at most SCAN_ROWS candidates; then one query
 * per end, filtered on the time column within that key range, returns the newest record not after
 * the time. Four round trips, where a binary search took about 2 × log2(n) one after another.
 */
export class SequenceWindows {
  constructor(private readonly table: PartitionTable) {}

  /** The first record at or after `since` and the last at or before `until`; undefined when none lies between. */
  async of(since: string | undefined, until: string | undefined): Promise<SequenceWindow | undefined> {
    const head = (await this.table.value<AuditHead>(rowKeys.head)) ?? GENESIS_HEAD;
    const all = { low: 1, high: head.sequence + 1 };
    const atOrAfterSince = since === undefined ? undefined : { ...all, time: since, inclusive: true };
    const afterUntil = until === undefined ? undefined : { ...all, time: until, inclusive: false };
    const searches = [atOrAfterSince, afterUntil].filter((search) => search !== undefined);
    await this.probe(searches);
    await Promise.all(searches.map((search) => this.scan(search)));
    const first = atOrAfterSince?.low ?? 1;
    const last = afterUntil === undefined ? head.sequence : afterUntil.low - 1;
    return first <= last ? { first, last } : undefined;
  }

  /** Narrows every search to at most SCAN_ROWS candidates, each round's point reads sent together. */
  private async probe(searches: Search[]): Promise<void> {
    for (let round = 0; ; round++) {
      const open = searches.filter((search) => search.high - search.low + 1 > SCAN_ROWS);
      if (open.length === 0) return;
      const plans = open.map((search) => ({ search, probes: probesOf(search, Math.max(1, PROBE_ROUNDS - round)) }));
      const times = await this.timesAt(new Set(plans.flatMap(({ probes }) => probes)));
      for (const { search, probes } of plans) narrow(search, probes, times);
    }
  }

  /**
   * Settles a search with one query over its candidates but the last (known to be after, or past the
   * log): the newest record not after its time, newest first in key order. The answer is the one
   * after it, or the lowest candidate when there is none; a missing record in between is, again, later.
   */
  private async scan(search: Search): Promise<void> {
    if (search.low < search.high) {
      const candidates = { from: rowKeys.audit(search.high - 1), to: rowKeys.audit(search.low) };
      for await (const row of this.table.rows(rowKeys.auditPrefix, { ...candidates, filter: notAfterClause(search), pageSize: 1 })) {
        search.low = rowKeys.auditPosition(row.rowKey) + 1;
        break;
      }
    }
    search.high = search.low;
  }

  /** The time column of the row at each sequence (undefined where it is missing), read in parallel. */
  private async timesAt(sequences: Set<number>): Promise<Map<number, unknown>> {
    const read = async (sequence: number) => [sequence, (await this.table.row(rowKeys.audit(sequence)))?.time] as const;
    return new Map(await Promise.all([...sequences].map(read)));
  }
}
