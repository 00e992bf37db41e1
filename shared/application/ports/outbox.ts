import type { CloudEvent } from '../events';

/** Events committed with their change but not yet published (the commit writes them; publishing drops them). */
export interface Outbox {
  /** The oldest `limit` events still waiting, in sequence order. */
  pending(limit: number): Promise<CloudEvent[]>;
  /** Drops a published event; dropping one already gone is fine. */
  markPublished(event: CloudEvent): Promise<void>;
}
