import type { Timer } from '@azure/functions';
import { resolveAppSettings, type AppSettingReader } from './appSettingExpressions';
import { triggerOf, type Registration } from './functionsRegistry';
import { createInvocationContext, type HostLog } from './invocationContext';
import { parseSchedule, type CronSchedule } from './ncrontab';

/** setTimeout fires at once for longer delays (about 24.8 days), so a far occurrence is waited for in steps. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/** What the Functions host reports as the last run of a timer that has not run yet (.NET's default DateTime). */
const NEVER = '0001-01-01T00:00:00.000Z';

/** A timer trigger: its schedule, the occurrence it waits for, and its run in progress, if any. */
interface ScheduledTimer {
  registration: Registration;
  schedule: CronSchedule;
  runOnStartup: boolean;
  next: Date;
  /** When the last run was due; undefined until the first run. */
  last: Date | undefined;
  pending: NodeJS.Timeout | undefined;
  running: Promise<void> | undefined;
}

/** What the timer scheduler needs: the timer registrations, the app settings their schedules may name, and the host log. */
export interface TimerTriggerOptions {
  registrations: Registration[];
  setting: AppSettingReader;
  log: HostLog;
}

/** A timer registration with its schedule resolved (`%NAME%` from app settings, as the host's name resolver does) and parsed. */
function scheduledTimer(registration: Registration, setting: AppSettingReader): ScheduledTimer {
  const trigger = triggerOf(registration);
  try {
    const schedule = parseSchedule(resolveAppSettings(String(trigger.schedule), setting));
    return {
      registration,
      schedule,
      runOnStartup: trigger.runOnStartup === true,
      next: schedule.next(new Date()),
      last: undefined,
      pending: undefined,
      running: undefined,
    };
  } catch (error) {
    throw new Error(`function ${registration.name}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Runs timer triggers on their six-field NCRONTAB schedules (UTC). A timer never overlaps itself:
 * an occurrence that falls due while the previous run is still going is skipped, as in the Functions host.
 */
export class TimerTriggers {
  private readonly timers: ScheduledTimer[];
  private readonly log: HostLog;

  /** Resolves and parses every schedule, throwing on the first bad one, so start-up can stop before anything runs. */
  constructor(options: TimerTriggerOptions) {
    this.log = options.log;
    this.timers = options.registrations.map((registration) => scheduledTimer(registration, options.setting));
  }

  /** Arms every timer, and runs the runOnStartup ones at once. */
  start(): void {
    for (const timer of this.timers) {
      this.log(`[${timer.registration.name}] timer "${timer.schedule.expression}" (UTC), next run at ${timer.next.toISOString()}`);
      if (timer.runOnStartup) this.run(timer, new Date());
      this.arm(timer);
    }
  }

  /** Takes no further occurrence and waits for the runs in progress. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer.pending);
    await Promise.allSettled(this.timers.flatMap((timer) => (timer.running ? [timer.running] : [])));
  }

  /** Waits for the timer's next occurrence, in steps when it is further away than setTimeout can wait. */
  private arm(timer: ScheduledTimer): void {
    const delay = timer.next.getTime() - Date.now();
    timer.pending =
      delay > MAX_TIMEOUT_MS
        ? setTimeout(() => this.arm(timer), MAX_TIMEOUT_MS)
        : setTimeout(() => this.onOccurrence(timer), Math.max(0, delay));
  }

  private onOccurrence(timer: ScheduledTimer): void {
    const due = timer.next;
    if (timer.running) {
      this.log(`[${timer.registration.name}] skipped the run due at ${due.toISOString()}: the previous run is still going`);
    } else {
      this.run(timer, due);
    }
    // Counted from the due time, so a timeout that fires a little early cannot repeat this
    // occurrence; from now when late, so occurrences missed by a blocked event loop do not run in a burst.
    timer.next = timer.schedule.next(new Date(Math.max(due.getTime(), Date.now())));
    this.arm(timer);
  }

  /**
   * Starts one run. The function sees the schedule status as the Functions host passes it: the
   * record kept before this run, so `next` is the occurrence now running (or, on start-up, the
   * first scheduled one) and `last` the previous run.
   */
  private run(timer: ScheduledTimer, startedFor: Date): void {
    const last = timer.last?.toISOString() ?? NEVER;
    const info: Timer = {
      isPastDue: false,
      schedule: { adjustForDST: false },
      scheduleStatus: { last, next: timer.next.toISOString(), lastUpdated: last },
    };
    timer.last = startedFor;
    timer.running = this.invoke(timer.registration, info).finally(() => {
      timer.running = undefined;
    });
  }

  private async invoke(registration: Registration, info: Timer): Promise<void> {
    try {
      await registration.handler(info, createInvocationContext(registration, this.log));
    } catch (error) {
      // As in the Functions host, a failed run is logged and the schedule goes on.
      this.log(`[${registration.name}] timer run failed: ${(error as Error)?.message ?? error}`);
    }
  }
}
