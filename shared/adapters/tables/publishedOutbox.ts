import type { PartitionTable } from './partitionTable';

/** How long a published event's row may wait for a commit to carry its delete before it is deleted on its own. */
export const SWEEP_AFTER_MS = 1_000;

/**
 * Outbox rows whose events are published but whose rows are still stored. The next commit deletes
 * them in its own transaction, so a published event costs no round trip of its own; if no commit
 * comes within SWEEP_AFTER_MS they are deleted one by one. Until then the outbox's `pending` hides
 * them, so this process never publishes them again; another process's re-driver only publishes
 * events older than OUTBOX_GRACE_MS (5 s), and should it ever (this process died holding them), the
 * repeat carries the same event id, as after a crash between publishing and deleting.
 */
export class PublishedOutboxRows {
  private readonly waiting = new Set<string>();
  /** Rows a commit in flight is deleting: the sweep leaves them to it. */
  private readonly carried = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly table: PartitionTable,
    private readonly sweepAfterMs = SWEEP_AFTER_MS,
  ) {}

  /** How many rows wait to be deleted. */
  get size(): number {
    return this.waiting.size + this.carried.size;
  }

  /** Whether a row's event is published (its row waits to be deleted). */
  has(rowKey: string): boolean {
    return this.waiting.has(rowKey) || this.carried.has(rowKey);
  }

  add(rowKey: string): void {
    this.waiting.add(rowKey);
    this.scheduleSweep();
  }

  private scheduleSweep(): void {
    this.timer ??= setTimeout(() => void this.sweep(), this.sweepAfterMs).unref();
  }

  /** Rows a commit or a sweep carried and did not delete: waiting again, for the next commit. */
  private restore(keys: string[]): void {
    for (const key of keys) {
      this.carried.delete(key);
      this.waiting.add(key);
    }
  }

  /** Up to `room` (eligible) rows for a commit to delete; the commit then calls `done` with them, whether it succeeded or not. */
  carry(room: number, eligible: (rowKey: string) => boolean = () => true): string[] {
    const keys = [...this.waiting].filter(eligible).slice(0, Math.max(0, room));
    for (const key of keys) {
      this.waiting.delete(key);
      this.carried.add(key);
    }
    return keys;
  }

  /** The commit carrying `keys` is over: deleted with it, or (when it failed) waiting again, for the next commit or a sweep. */
  done(keys: string[], deleted: boolean): void {
    if (deleted) {
      for (const key of keys) this.carried.delete(key);
      return;
    }
    this.restore(keys);
    this.scheduleSweep();
  }

  /** Deletes every waiting row now (no commit came to carry them). */
  async sweep(): Promise<void> {
    this.timer = undefined;
    const keys = this.carry(this.waiting.size);
    try {
      await Promise.all(keys.map((key) => this.table.delete(key)));
      this.done(keys, true);
    } catch {
      // Storage away: the rows wait for the next commit (or the sweep after the next publish). No
      // sweep is scheduled now: retrying on a timer would keep an idle process busy, and alive,
      // for as long as storage stays away. Should this process end first, another instance's
      // re-driver publishes the events again, with the same ids, and deletes the rows.
      this.restore(keys);
    }
  }
}
