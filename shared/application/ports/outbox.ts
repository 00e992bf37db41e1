import type { CloudEvent } from '../events';

/** Events committed with their change but not yet published (the commit writes them; publishing drops them). */
export interface Outbox {
  /** The oldest `limit` events still waiting, in sequence order. */
  pending(limit: number): Promise<CloudEvent[]>;
  /** Drops a published event now; dropping one already gone is fine. */
  markPublished(event: CloudEvent): Promise<void>;
  /**
   * Drops a published event soon (with the next commit, which then needs no round trip of its own,
   * or within a second): from now on it is no longer `pending` to this process.
   */
  markPublishedLater(event: CloudEvent): void;
}
