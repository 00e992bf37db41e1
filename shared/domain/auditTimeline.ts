import type { AuditOutcome } from './audit';

/** One calendar day in the reader's time zone, with how many records ended each way on it. */
export interface TimelineDay {
  /** The day as YYYY-MM-DD in the time zone asked for. */
  day: string;
  applied: number;
  rejected: number;
  failed: number;
}

/** The counts per day of a filtered audit query, oldest day first. */
export interface AuditTimeline {
  /** The IANA time zone the days are cut in. */
  timeZone: string;
  days: TimelineDay[];
  /** How many records were counted. */
  recordsCounted: number;
  /**
   * False when the query matched more records than the bound: only the newest `recordsCounted` were
   * counted, back to `countedSince`; older days are missing or short. Narrow the window to see them.
   */
  complete: boolean;
  /** The time of the oldest record counted (RFC 3339, UTC); null when none matched. */
  countedSince: string | null;
}

/** Whether `timeZone` names a zone this runtime knows (IANA names such as Europe/Berlin, or UTC). */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Counts records per calendar day of `timeZone` as they stream past, newest first (the log's order).
 * Pure: the caller reads the records and decides the bound.
 */
export class TimelineCounter {
  private readonly days = new Map<string, TimelineDay>();
  private readonly dayOf: Intl.DateTimeFormat;
  private counted = 0;
  private oldest: string | null = null;

  constructor(private readonly timeZone: string) {
    // en-CA formats a date as YYYY-MM-DD, the ISO form of the local calendar day.
    this.dayOf = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  }

  /** Counts one record, given its time (RFC 3339) and outcome. */
  add(time: string, outcome: AuditOutcome): void {
    const day = this.dayOf.format(new Date(time));
    const counts = this.days.get(day) ?? { day, applied: 0, rejected: 0, failed: 0 };
    counts[outcome.status] += 1;
    this.days.set(day, counts);
    this.counted += 1;
    this.oldest = time;
  }

  /** How many records have been counted. */
  get recordsCounted(): number {
    return this.counted;
  }

  /** The timeline so far; `complete` says whether every matching record was counted. */
  result(complete: boolean): AuditTimeline {
    return {
      timeZone: this.timeZone,
      days: [...this.days.values()].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0)),
      recordsCounted: this.counted,
      complete,
      countedSince: this.oldest,
    };
  }
}
