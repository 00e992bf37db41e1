import type { WaitingChangeRequest } from '../../domain/changeRequest';

/** A waiting request's place in the re-drive schedule: when to send its message again if it still waits then. */
export interface ScheduledRedrive {
  /** The request as admitted: it does not change while it waits, so the schedule holds it whole. */
  changeRequest: WaitingChangeRequest;
  /** When the re-driver next sends its message again. */
  redriveAt: string;
  /** How often its message has been sent so far (the first send included). */
  sends: number;
}

/** An entry of the schedule that is due but cannot be read back as a ScheduledRedrive (a corrupt row). */
export interface UnreadableRedrive {
  /** The entry's own id in the schedule, for `discard`. */
  id: string;
  /** The request it names, when that much can still be read. */
  changeRequestId: string | null;
  /** Why it cannot be read. */
  problem: string;
}

/** What is due: the entries that read back whole, and those that do not (never a reason to fail the whole page). */
export interface DueRedrives {
  entries: ScheduledRedrive[];
  unreadable: UnreadableRedrive[];
}

/**
 * The re-drive schedule of waiting requests: admission enters a request, the commit that settles
 * it removes it, and the re-driver reads what is due and postpones what it re-sent.
 */
export interface RedriveSchedule {
  /** Requests still waiting whose re-drive time has passed (at most `limit` entries, readable or not), oldest ticket first per address. */
  due(now: Date, limit: number): Promise<DueRedrives>;
  /** Takes an unreadable entry out of the schedule, so it no longer holds up its address or the re-driver. */
  discard(id: string): Promise<void>;
  /** Counts one more send of a waiting request and sets its next re-drive time; a request settled since is left alone. */
  postpone(entry: ScheduledRedrive, redriveAt: Date): Promise<void>;
}
