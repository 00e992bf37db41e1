import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpRequest, HttpResponse, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { QueueServiceClient, type DequeuedMessageItem, type QueueClient } from '@azure/storage-queue';
import { triggerOf, type Registration } from './functionsRegistry';
import type { HostSettings } from './hostSettings';
import { parseSchedule, type CronSchedule } from './ncrontab';

/** How the local host is set up. */
export interface LocalHostOptions {
  registrations: Registration[];
  settings: HostSettings;
  /** Resolves an app setting: a binding's `connection`, or a `%NAME%` in a timer's schedule. */
  setting(name: string): string | undefined;
  port: number;
  hostname?: string;
  /**
   * Serve HTTP triggers, drive queue triggers, run timer triggers (a worker-only process runs queues
   * alone). Timers follow the queue role unless set: they belong with the background work.
   */
  roles?: { http: boolean; queues: boolean; timers?: boolean };
  /** Seconds a received message stays invisible, renewed at half that while its function runs (default 30). */
  messageLeaseSeconds?: number;
  log?: (line: string) => void;
}

interface Route {
  registration: Registration;
  methods: string[];
  pattern: RegExp;
  params: string[];
}

/** The largest request body the host reads; functions enforce their own, smaller, limits. */
const MAX_HOST_BODY_BYTES = 4 * 1024 * 1024;
const DEFAULT_MESSAGE_LEASE_SECONDS = 30;
/** Azure Storage refuses a visibility timeout over seven days. */
const MAX_MESSAGE_LEASE_SECONDS = 7 * 24 * 3600;
const MIN_POLL_MS = 50;
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

/** The timer argument of a timer function, shaped as @azure/functions' `Timer`. */
interface TimerInfo {
  isPastDue: boolean;
  schedule: { adjustForDST: boolean };
  scheduleStatus: { last: string; next: string; lastUpdated: string };
}

interface MessageQueues {
  queue: QueueClient;
  poison: QueueClient;
}

function compileRoute(prefix: string, registration: Registration): Route {
  const trigger = triggerOf(registration);
  const template = trigger.route ?? registration.name;
  const params: string[] = [];
  const source = template.split('/').map((segment) => segment.replace(/[.+^$()|[\]\\]/g, '\\$&').replace(/\{\*?([A-Za-z0-9_]+)(?::[^}]*)?\??\}/g, (_m, name: string) => {
    params.push(name);
    return '([^/]+)';
  })).join('/');
  return {
    registration,
    methods: (trigger.methods ?? ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']).map((m) => m.toUpperCase()),
    pattern: new RegExp(`^/${prefix ? `${prefix}/` : ''}${source}/?$`, 'i'),
    params,
  };
}

function problemResponse(response: http.ServerResponse, status: number, title: string, detail: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/problem+json; charset=utf-8', ...headers });
  response.end(JSON.stringify({ type: 'about:blank', title, status, detail }));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A small stand-in for the Azure Functions host: runs the registrations of functions/ unmodified.
 * HTTP triggers are served on node:http with the host's routing (route prefix, {params}, methods);
 * Storage-queue triggers are polled with the host's semantics: batches, base64 decoding, dequeue
 * count, a lease renewed while the function runs, visibility timeout between retries, and
 * `<queue>-poison` after maxDequeueCount (on the last failure, or on receipt when a message's runs
 * died with their worker). Timer triggers run on their NCRONTAB schedule (UTC), one run at a time.
 */
export class LocalFunctionsHost {
  private server: http.Server | undefined;
  private stopping = false;
  private readonly pollers: Array<Promise<void>> = [];
  private readonly timers: ScheduledTimer[] = [];
  private readonly messageLeaseSeconds: number;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly log: (line: string) => void;

  constructor(private readonly options: LocalHostOptions) {
    this.log = options.log ?? ((line) => console.log(line));
    this.messageLeaseSeconds = options.messageLeaseSeconds ?? DEFAULT_MESSAGE_LEASE_SECONDS;
    if (!Number.isInteger(this.messageLeaseSeconds) || this.messageLeaseSeconds < 1 || this.messageLeaseSeconds > MAX_MESSAGE_LEASE_SECONDS) {
      throw new Error(`messageLeaseSeconds must be a whole number from 1 to ${MAX_MESSAGE_LEASE_SECONDS}, not ${options.messageLeaseSeconds}`);
    }
  }

  /** The HTTP routes served, for the start-up banner. */
  routes(): Array<{ name: string; methods: string[]; path: string }> {
    return this.httpRegistrations().map((registration) => {
      const trigger = triggerOf(registration);
      return { name: registration.name, methods: trigger.methods ?? ['*'], path: `/${this.options.settings.routePrefix}/${trigger.route ?? registration.name}` };
    });
  }

  private httpRegistrations(): Registration[] {
    return this.registrationsOf('httpTrigger');
  }

  /** Starts serving; resolves with the base URL once listening. */
  async start(): Promise<string> {
    const roles = this.options.roles ?? { http: true, queues: true };
    for (const registration of this.options.registrations) {
      const type = triggerOf(registration).type;
      if (type !== 'httpTrigger' && type !== 'queueTrigger' && type !== 'timerTrigger') {
        throw new Error(`function ${registration.name}: the local host runs HTTP, Storage-queue and timer triggers, not ${type} (set MESSAGING_TRANSPORT=storage-queues locally)`);
      }
    }
    // Parsed before anything starts, so a bad schedule or a missing setting stops start-up cleanly.
    const timers = (roles.timers ?? roles.queues) ? this.registrationsOf('timerTrigger').map((registration) => this.scheduledTimer(registration)) : [];
    if (roles.queues) {
      for (const registration of this.registrationsOf('queueTrigger')) {
        this.pollers.push(this.poll(registration));
      }
    }
    for (const timer of timers) this.startTimer(timer);
    if (!roles.http) return '';
    const routes = this.httpRegistrations().map((registration) => compileRoute(this.options.settings.routePrefix, registration));
    this.server = http.createServer((request, response) => {
      const work = this.serve(routes, request, response).catch((error) => {
        this.log(`http: ${String(error?.stack ?? error)}`);
        if (!response.headersSent) problemResponse(response, 500, 'Internal Server Error', 'the local host failed to run the function');
        else response.destroy();
      });
      this.track(work);
    });
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.hostname ?? '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return `http://${this.options.hostname === '0.0.0.0' ? 'localhost' : this.options.hostname ?? '127.0.0.1'}:${port}`;
  }

  /** Stops taking work (no new timer occurrences, no new messages), lets running invocations finish, and closes the server. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers) clearTimeout(timer.pending);
    const server = this.server;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    server?.closeIdleConnections();
    await Promise.allSettled(this.pollers);
    await Promise.allSettled([...this.inFlight]);
    await closed;
  }

  private registrationsOf(triggerType: string): Registration[] {
    return this.options.registrations.filter((registration) => triggerOf(registration).type === triggerType);
  }

  private track(work: Promise<unknown>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async serve(routes: Route[], request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', `http://${request.headers.host ?? 'localhost'}`);
    const method = (request.method ?? 'GET').toUpperCase();
    const matching = routes.map((route) => ({ route, match: route.pattern.exec(url.pathname) })).filter((candidate) => candidate.match !== null);
    if (matching.length === 0) return problemResponse(response, 404, 'Not Found', `no function serves ${url.pathname}`);
    const hit = matching.find((candidate) => candidate.route.methods.includes(method));
    if (!hit?.match) {
      const allow = [...new Set(matching.flatMap((candidate) => candidate.route.methods))].join(', ');
      return problemResponse(response, 405, 'Method Not Allowed', `${method} is not allowed on ${url.pathname}`, { allow });
    }

    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > MAX_HOST_BODY_BYTES) return problemResponse(response, 413, 'Content Too Large', `the body exceeds ${MAX_HOST_BODY_BYTES} bytes`);
      chunks.push(chunk as Buffer);
    }
    let params: Record<string, string>;
    try {
      params = Object.fromEntries(hit.route.params.map((name, index) => [name, decodeURIComponent(hit.match?.[index + 1] ?? '')]));
    } catch {
      return problemResponse(response, 400, 'Bad Request', 'the URL path is not valid percent-encoding');
    }
    const headers = Object.fromEntries(Object.entries(request.headers).flatMap(([name, value]) => (value === undefined ? [] : [[name, Array.isArray(value) ? value.join(', ') : value]])));
    const functionRequest = new HttpRequest({
      method,
      url: url.toString(),
      headers,
      params,
      ...(chunks.length && method !== 'GET' && method !== 'HEAD' ? { body: { bytes: Buffer.concat(chunks) } } : {}),
    });
    const context = this.context(hit.route.registration, {});
    const result = (await hit.route.registration.handler(functionRequest, context)) as HttpResponseInit | HttpResponse | undefined;
    const output = result instanceof HttpResponse ? result : new HttpResponse(result ?? { status: 204 });
    response.writeHead(output.status, Object.fromEntries(output.headers));
    // Streamed as the function produces it (an export can be larger than memory), with backpressure.
    if (output.body) {
      for await (const chunk of output.body) {
        if (!response.write(chunk)) await once(response, 'drain');
      }
    }
    response.end();
  }

  private context(registration: Registration, triggerMetadata?: Record<string, unknown>): InvocationContext {
    return new InvocationContext({
      invocationId: randomUUID(),
      functionName: registration.name,
      triggerMetadata,
      logHandler: (level, ...args) => this.log(`[${registration.name}] ${level}: ${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}`),
    });
  }

  /** A timer registration with its schedule resolved (`%NAME%` from app settings, as the host's name resolver does) and parsed. */
  private scheduledTimer(registration: Registration): ScheduledTimer {
    const trigger = triggerOf(registration);
    try {
      const schedule = parseSchedule(this.resolveSettings(String(trigger.schedule)));
      return { registration, schedule, runOnStartup: trigger.runOnStartup === true, next: schedule.next(new Date()), last: undefined, pending: undefined, running: undefined };
    } catch (error) {
      throw new Error(`function ${registration.name}: ${(error as Error).message}`);
    }
  }

  /** Replaces every `%NAME%` with the app setting NAME. */
  private resolveSettings(text: string): string {
    return text.replace(/%([^%]+)%/g, (_match, name: string) => {
      const value = this.options.setting(name);
      if (value === undefined) throw new Error(`app setting ${name}, used in "${text}", is not set`);
      return value;
    });
  }

  private startTimer(timer: ScheduledTimer): void {
    this.timers.push(timer);
    this.log(`[${timer.registration.name}] timer "${timer.schedule.expression}" (UTC), next run at ${timer.next.toISOString()}`);
    if (timer.runOnStartup) this.runTimer(timer, new Date());
    this.armTimer(timer);
  }

  /** Waits for the timer's next occurrence, in steps when it is further away than setTimeout can wait. */
  private armTimer(timer: ScheduledTimer): void {
    const delay = timer.next.getTime() - Date.now();
    timer.pending = delay > MAX_TIMEOUT_MS
      ? setTimeout(() => this.armTimer(timer), MAX_TIMEOUT_MS)
      : setTimeout(() => this.onOccurrence(timer), Math.max(0, delay));
  }

  private onOccurrence(timer: ScheduledTimer): void {
    const due = timer.next;
    if (timer.running) {
      this.log(`[${timer.registration.name}] skipped the run due at ${due.toISOString()}: the previous run is still going`);
    } else {
      this.runTimer(timer, due);
    }
    // Counted from the due time, so a timeout that fires a little early cannot repeat this
    // occurrence; from now when late, so occurrences missed by a blocked event loop do not run in a burst.
    timer.next = timer.schedule.next(new Date(Math.max(due.getTime(), Date.now())));
    this.armTimer(timer);
  }

  /**
   * Starts one run. The function sees the schedule status as the Functions host passes it: the
   * record kept before this run, so `next` is the occurrence now running (or, on start-up, the
   * first scheduled one) and `last` the previous run.
   */
  private runTimer(timer: ScheduledTimer, startedFor: Date): void {
    const last = timer.last?.toISOString() ?? NEVER;
    const info: TimerInfo = {
      isPastDue: false,
      schedule: { adjustForDST: false },
      scheduleStatus: { last, next: timer.next.toISOString(), lastUpdated: last },
    };
    timer.last = startedFor;
    const run = this.invokeTimerFunction(timer.registration, info).finally(() => {
      timer.running = undefined;
    });
    timer.running = run;
    this.track(run);
  }

  private async invokeTimerFunction(registration: Registration, info: TimerInfo): Promise<void> {
    try {
      await registration.handler(info, this.context(registration));
    } catch (error) {
      // As in the Functions host, a failed run is logged and the schedule goes on.
      this.log(`[${registration.name}] timer run failed: ${(error as Error)?.message ?? error}`);
    }
  }

  private queueClients(registration: Registration): MessageQueues {
    const trigger = triggerOf(registration);
    const connection = this.options.setting(trigger.connection ?? 'AzureWebJobsStorage');
    if (!connection) throw new Error(`function ${registration.name}: app setting ${trigger.connection} is not set`);
    const service = QueueServiceClient.fromConnectionString(connection, { retryOptions: { maxTries: 1 } });
    const queueName = String(trigger.queueName);
    return { queue: service.getQueueClient(queueName), poison: service.getQueueClient(`${queueName}-poison`) };
  }

  /** One polling loop per queue trigger, backing off exponentially while the queue is empty. */
  private async poll(registration: Registration): Promise<void> {
    const queues = this.queueClients(registration);
    const settings = this.options.settings.queues;
    let idleMs = MIN_POLL_MS;
    let ready = false;
    const running = new Set<Promise<void>>();
    while (!this.stopping) {
      try {
        if (!ready) {
          await queues.queue.createIfNotExists();
          ready = true;
        }
        const capacity = settings.batchSize + settings.newBatchThreshold - running.size;
        if (running.size > settings.newBatchThreshold || capacity <= 0) {
          await Promise.race(running);
          continue;
        }
        const { receivedMessageItems: messages } = await queues.queue.receiveMessages({
          numberOfMessages: Math.min(settings.batchSize, capacity), visibilityTimeout: this.messageLeaseSeconds,
        });
        if (messages.length === 0) {
          await sleep(idleMs);
          idleMs = Math.min(idleMs * 2, settings.maxPollingIntervalMs);
          continue;
        }
        idleMs = MIN_POLL_MS;
        for (const message of messages) {
          const work = this.processMessage(registration, queues, message).finally(() => running.delete(work));
          running.add(work);
          this.track(work);
        }
      } catch (error) {
        // Storage unreachable (Azurite restarting): keep polling, slowly; messages are safe in the queue.
        this.log(`[${registration.name}] queue poll failed: ${(error as Error).message}`);
        ready = false;
        await sleep(Math.min(idleMs * 4, settings.maxPollingIntervalMs));
      }
    }
    await Promise.allSettled(running);
  }

  private async processMessage(registration: Registration, queues: MessageQueues, message: DequeuedMessageItem): Promise<void> {
    const { maxDequeueCount } = this.options.settings.queues;
    if (message.dequeueCount > maxDequeueCount) {
      // The WebJobs SDK's QueueProcessor.BeginProcessingMessageAsync does this: past the limit, the
      // message's earlier runs died with their worker before the failure path could poison it.
      if (await this.settle(registration, message, () => this.moveToPoison(queues, message, message.popReceipt))) {
        this.log(`[${registration.name}] message ${message.messageId} moved to ${queues.poison.name} without running: dequeued ${message.dequeueCount} times, over maxDequeueCount ${maxDequeueCount}`);
      }
      return;
    }
    const lease = this.keepLeased(registration, queues.queue, message);
    const failure = await this.invokeQueueFunction(registration, message);
    const popReceipt = await lease.stop();
    if (!failure) {
      await this.settle(registration, message, () => queues.queue.deleteMessage(message.messageId, popReceipt));
      return;
    }
    this.log(`[${registration.name}] message ${message.messageId} failed on dequeue ${message.dequeueCount}: ${(failure.error as Error)?.message ?? failure.error}`);
    if (message.dequeueCount >= maxDequeueCount) {
      if (await this.settle(registration, message, () => this.moveToPoison(queues, message, popReceipt))) {
        this.log(`[${registration.name}] message ${message.messageId} moved to ${queues.poison.name} after ${message.dequeueCount} attempts`);
      }
    } else {
      const retryAfterSeconds = Math.ceil(this.options.settings.queues.visibilityTimeoutMs / 1000);
      await this.settle(registration, message, () => queues.queue.updateMessage(message.messageId, popReceipt, undefined, retryAfterSeconds));
    }
  }

  /** Runs the function; resolves with its failure, or undefined when it succeeded. */
  private async invokeQueueFunction(registration: Registration, message: DequeuedMessageItem): Promise<{ error: unknown } | undefined> {
    const context = this.context(registration, {
      id: message.messageId, dequeueCount: message.dequeueCount, insertionTime: message.insertedOn, expirationTime: message.expiresOn,
      nextVisibleTime: message.nextVisibleOn, popReceipt: message.popReceipt, queueTrigger: message.messageText,
    });
    try {
      await registration.handler(this.decode(message.messageText), context);
      return undefined;
    } catch (error) {
      return { error };
    }
  }

  /**
   * Keeps a received message invisible while its function runs, renewing the lease at half its
   * length as the Functions host does, so a long run is not handed to another worker. Each renewal
   * returns a new pop receipt; `stop()` ends the renewals and yields the newest one for settling.
   */
  private keepLeased(registration: Registration, queue: QueueClient, message: DequeuedMessageItem): { stop(): Promise<string> } {
    let popReceipt = message.popReceipt;
    let renewal: Promise<void> = Promise.resolve();
    const renew = async () => {
      try {
        const { popReceipt: renewed } = await queue.updateMessage(message.messageId, popReceipt, undefined, this.messageLeaseSeconds);
        if (renewed) popReceipt = renewed;
      } catch (error) {
        // Not fatal: the next renewal may succeed; if the lease runs out the message is redelivered, at least once as in Azure.
        this.log(`[${registration.name}] could not renew the lease of message ${message.messageId}: ${(error as Error).message}`);
      }
    };
    const timer = setInterval(() => {
      renewal = renewal.then(renew);
    }, (this.messageLeaseSeconds * 1000) / 2);
    return {
      async stop() {
        clearInterval(timer);
        // A renewal under way would change the pop receipt the settlement needs.
        await renewal;
        return popReceipt;
      },
    };
  }

  private async moveToPoison(queues: MessageQueues, message: DequeuedMessageItem, popReceipt: string): Promise<void> {
    await queues.poison.createIfNotExists();
    await queues.poison.sendMessage(message.messageText);
    await queues.queue.deleteMessage(message.messageId, popReceipt);
  }

  /** Deletes, releases or poisons a message; resolves false, having logged why, when storage refused. */
  private async settle(registration: Registration, message: DequeuedMessageItem, settlement: () => Promise<unknown>): Promise<boolean> {
    try {
      await settlement();
      return true;
    } catch (error) {
      // The lease runs out and the message comes back: at-least-once, as in Azure.
      this.log(`[${registration.name}] could not settle message ${message.messageId}: ${(error as Error).message}`);
      return false;
    }
  }

  /** The trigger payload as the Functions host gives it: base64-decoded, then JSON if it parses. */
  private decode(text: string): unknown {
    let decoded = text;
    if (this.options.settings.queues.messageEncoding === 'base64') {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new Error('the message is not base64 (host.json messageEncoding is base64)');
      decoded = Buffer.from(text, 'base64').toString('utf8');
    }
    try {
      return JSON.parse(decoded);
    } catch {
      return decoded;
    }
  }
}
