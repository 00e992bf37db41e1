import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpRequest, HttpResponse, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { QueueServiceClient, type DequeuedMessageItem, type QueueClient } from '@azure/storage-queue';
import { triggerOf, type Registration } from './functionsRegistry';
import type { HostSettings } from './hostSettings';

/** How the local host is set up. */
export interface LocalHostOptions {
  registrations: Registration[];
  settings: HostSettings;
  /** Resolves a binding's `connection` (an app-setting name) to its value. */
  setting(name: string): string | undefined;
  port: number;
  hostname?: string;
  /** Serve HTTP triggers, drive queue triggers, or both (a worker-only process runs queues alone). */
  roles?: { http: boolean; queues: boolean };
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
/** Lock a received message this long while its function runs (Functions renews; we use a generous lease). */
const MESSAGE_LEASE_SECONDS = 60;
const MIN_POLL_MS = 50;

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
 * count, visibility timeout between retries, and `<queue>-poison` after maxDequeueCount.
 */
export class LocalFunctionsHost {
  private server: http.Server | undefined;
  private stopping = false;
  private readonly pollers: Array<Promise<void>> = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly log: (line: string) => void;

  constructor(private readonly options: LocalHostOptions) {
    this.log = options.log ?? ((line) => console.log(line));
  }

  /** The HTTP routes served, for the start-up banner. */
  routes(): Array<{ name: string; methods: string[]; path: string }> {
    return this.httpRegistrations().map((registration) => {
      const trigger = triggerOf(registration);
      return { name: registration.name, methods: trigger.methods ?? ['*'], path: `/${this.options.settings.routePrefix}/${trigger.route ?? registration.name}` };
    });
  }

  private httpRegistrations(): Registration[] {
    return this.options.registrations.filter((registration) => triggerOf(registration).type === 'httpTrigger');
  }

  /** Starts serving; resolves with the base URL once listening. */
  async start(): Promise<string> {
    const roles = this.options.roles ?? { http: true, queues: true };
    for (const registration of this.options.registrations) {
      const type = triggerOf(registration).type;
      if (type !== 'httpTrigger' && type !== 'queueTrigger') {
        throw new Error(`function ${registration.name}: the local host runs HTTP and Storage-queue triggers, not ${type} (set MESSAGING_TRANSPORT=storage-queues locally)`);
      }
    }
    if (roles.queues) {
      for (const registration of this.options.registrations.filter((r) => triggerOf(r).type === 'queueTrigger')) {
        this.pollers.push(this.poll(registration));
      }
    }
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

  /** Stops taking work, lets running invocations finish, and closes the server. */
  async stop(): Promise<void> {
    this.stopping = true;
    const server = this.server;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    server?.closeIdleConnections();
    await Promise.allSettled(this.pollers);
    await Promise.allSettled([...this.inFlight]);
    await closed;
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
    const body = Buffer.from(await output.arrayBuffer());
    response.writeHead(output.status, Object.fromEntries(output.headers));
    response.end(body);
  }

  private context(registration: Registration, triggerMetadata: Record<string, unknown>): InvocationContext {
    return new InvocationContext({
      invocationId: randomUUID(),
      functionName: registration.name,
      triggerMetadata,
      logHandler: (level, ...args) => this.log(`[${registration.name}] ${level}: ${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}`),
    });
  }

  private queueClient(registration: Registration): { queue: QueueClient; poison: QueueClient } {
    const trigger = triggerOf(registration);
    const connection = this.options.setting(trigger.connection ?? 'AzureWebJobsStorage');
    if (!connection) throw new Error(`function ${registration.name}: app setting ${trigger.connection} is not set`);
    const service = QueueServiceClient.fromConnectionString(connection, { retryOptions: { maxTries: 1 } });
    const queueName = String(trigger.queueName);
    return { queue: service.getQueueClient(queueName), poison: service.getQueueClient(`${queueName}-poison`) };
  }

  /** One polling loop per queue trigger, backing off exponentially while the queue is empty. */
  private async poll(registration: Registration): Promise<void> {
    const { queue, poison } = this.queueClient(registration);
    const settings = this.options.settings.queues;
    let idleMs = MIN_POLL_MS;
    let ready = false;
    const running = new Set<Promise<void>>();
    while (!this.stopping) {
      try {
        if (!ready) {
          await queue.createIfNotExists();
          ready = true;
        }
        const capacity = settings.batchSize + settings.newBatchThreshold - running.size;
        if (running.size > settings.newBatchThreshold || capacity <= 0) {
          await Promise.race(running);
          continue;
        }
        const { receivedMessageItems: messages } = await queue.receiveMessages({
          numberOfMessages: Math.min(settings.batchSize, capacity), visibilityTimeout: MESSAGE_LEASE_SECONDS,
        });
        if (messages.length === 0) {
          await sleep(idleMs);
          idleMs = Math.min(idleMs * 2, settings.maxPollingIntervalMs);
          continue;
        }
        idleMs = MIN_POLL_MS;
        for (const message of messages) {
          const work = this.invokeQueueFunction(registration, queue, poison, message).finally(() => running.delete(work));
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

  private async invokeQueueFunction(registration: Registration, queue: QueueClient, poison: QueueClient, message: DequeuedMessageItem): Promise<void> {
    const settings = this.options.settings.queues;
    const context = this.context(registration, {
      id: message.messageId, dequeueCount: message.dequeueCount, insertionTime: message.insertedOn, expirationTime: message.expiresOn,
      nextVisibleTime: message.nextVisibleOn, popReceipt: message.popReceipt, queueTrigger: message.messageText,
    });
    try {
      await registration.handler(this.decode(message.messageText), context);
      await queue.deleteMessage(message.messageId, message.popReceipt);
    } catch (error) {
      this.log(`[${registration.name}] message ${message.messageId} failed on dequeue ${message.dequeueCount}: ${(error as Error)?.message ?? error}`);
      try {
        if (message.dequeueCount >= settings.maxDequeueCount) {
          await poison.createIfNotExists();
          await poison.sendMessage(message.messageText);
          await queue.deleteMessage(message.messageId, message.popReceipt);
          this.log(`[${registration.name}] message ${message.messageId} moved to ${poison.name} after ${message.dequeueCount} attempts`);
        } else {
          await queue.updateMessage(message.messageId, message.popReceipt, undefined, Math.ceil(settings.visibilityTimeoutMs / 1000));
        }
      } catch (settleError) {
        // The lease runs out and the message comes back: at-least-once, as in Azure.
        this.log(`[${registration.name}] could not settle message ${message.messageId}: ${(settleError as Error).message}`);
      }
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
