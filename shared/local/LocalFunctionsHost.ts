import type { AppSettingReader } from './appSettingExpressions';
import { triggerOf, type Registration } from './functionsRegistry';
import type { HostSettings } from './hostSettings';
import { summarizeRoutes, type RouteSummary } from './httpRoutes';
import { HttpTriggers } from './httpTriggers';
import type { HostLog } from './invocationContext';
import { resolveMessageLeaseSeconds } from './messageLease';
import { StorageQueueTriggers, type QueueServiceFactory } from './storageQueueTriggers';
import { TimerTriggers } from './timerTriggers';

/** The queue service factory's types, for a caller that passes the composition root's factory or a fake. */
export type { QueueServiceFactory, TriggerQueue, TriggerQueueService } from './storageQueueTriggers';

/** How the local host is set up. */
export interface LocalHostOptions {
  registrations: Registration[];
  settings: HostSettings;
  /** Resolves an app setting: a `%NAME%` in a timer's schedule. */
  setting: AppSettingReader;
  /** Builds the queue service a queue trigger's `connection` names (clients.ts through the settings; a fake in tests). */
  queueServiceFor: QueueServiceFactory;
  port: number;
  hostname?: string;
  /**
   * Serve HTTP triggers, drive queue triggers, run timer triggers (a worker-only process runs queues
   * alone). Timers follow the queue role unless set: they belong with the background work.
   */
  roles?: { http: boolean; queues: boolean; timers?: boolean };
  /** Seconds a received message stays invisible, renewed at half that while its function runs (default 30). */
  messageLeaseSeconds?: number;
  log?: HostLog;
}

const SUPPORTED_TRIGGERS = ['httpTrigger', 'queueTrigger', 'timerTrigger'];

/**
 * A small stand-in for the Azure Functions host: runs the registrations of functions/ unmodified.
 * It starts and stops three runtimes, each in its own module: HTTP triggers (httpTriggers.ts),
 * Storage-queue triggers (storageQueueTriggers.ts) and timer triggers (timerTriggers.ts).
 */
export class LocalFunctionsHost {
  private readonly log: HostLog;
  private readonly messageLeaseSeconds: number;
  private http: HttpTriggers | undefined;
  private queues: StorageQueueTriggers | undefined;
  private timers: TimerTriggers | undefined;

  /** Takes the host's setup; throws when messageLeaseSeconds is not a lease Azure Storage accepts. */
  constructor(private readonly options: LocalHostOptions) {
    this.log = options.log ?? ((line) => console.log(line));
    this.messageLeaseSeconds = resolveMessageLeaseSeconds(options.messageLeaseSeconds);
  }

  /** The HTTP routes served, for the start-up banner. */
  routes(): RouteSummary[] {
    return summarizeRoutes(this.options.settings.routePrefix, this.registrationsOf('httpTrigger'));
  }

  /** Starts the runtimes its roles call for; resolves with the base URL once listening (empty without the HTTP role). */
  async start(): Promise<string> {
    const roles = this.options.roles ?? { http: true, queues: true };
    this.refuseUnsupportedTriggers();
    // Parsed before anything starts, so a bad schedule or a missing setting stops start-up cleanly.
    const timers = (roles.timers ?? roles.queues) ? this.timerTriggers() : undefined;
    if (roles.queues) {
      this.queues = this.storageQueueTriggers();
      this.queues.start();
    }
    this.timers = timers;
    timers?.start();
    if (!roles.http) return '';
    this.http = this.httpTriggers();
    return this.http.listen(this.options.port, this.options.hostname);
  }

  /** Stops taking work (no new timer occurrences, no new messages), lets running invocations finish, and closes the server. */
  async stop(): Promise<void> {
    await Promise.all([this.http?.stop(), this.queues?.stop(), this.timers?.stop()]);
  }

  private refuseUnsupportedTriggers(): void {
    for (const registration of this.options.registrations) {
      const type = triggerOf(registration).type;
      if (!SUPPORTED_TRIGGERS.includes(type)) {
        throw new Error(
          `function ${registration.name}: the local host runs HTTP, Storage-queue and timer triggers, not ${type} (set MESSAGING_TRANSPORT=storage-queues locally)`,
        );
      }
    }
  }

  private httpTriggers(): HttpTriggers {
    return new HttpTriggers({
      registrations: this.registrationsOf('httpTrigger'),
      routePrefix: this.options.settings.routePrefix,
      log: this.log,
    });
  }

  private storageQueueTriggers(): StorageQueueTriggers {
    return new StorageQueueTriggers({
      registrations: this.registrationsOf('queueTrigger'),
      settings: this.options.settings.queues,
      queueServiceFor: this.options.queueServiceFor,
      messageLeaseSeconds: this.messageLeaseSeconds,
      log: this.log,
    });
  }

  private timerTriggers(): TimerTriggers {
    return new TimerTriggers({ registrations: this.registrationsOf('timerTrigger'), setting: this.options.setting, log: this.log });
  }

  private registrationsOf(triggerType: string): Registration[] {
    return this.options.registrations.filter((registration) => triggerOf(registration).type === triggerType);
  }
}
