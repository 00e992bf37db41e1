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

/**
 * The re-drive schedule of waiting requests: admission enters a request, the commit that settles
 * it removes it, and the re-driver reads what is due and postpones what it re-sent.
 */
export interface RedriveSchedule {
  /** Requests still waiting whose re-drive time has passed, oldest ticket first per address. */
  due(now: Date, limit: number): Promise<ScheduledRedrive[]>;
  /** Counts one more send of a waiting request and sets its next re-drive time; a request settled since is left alone. */
  postpone(entry: ScheduledRedrive, redriveAt: Date): Promise<void>;
}
