import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { HttpResponse, type HttpRequest, type InvocationContext, type Timer } from '@azure/functions';
import { QueueServiceClient, type DequeuedMessageItem } from '@azure/storage-queue';
import { StorageQueueMessageBus } from '../../shared/adapters/storageQueues/StorageQueueMessageBus';
import { queueSent } from '../../shared/adapters/storageQueues/queueSends';
import { createQueueServiceClient } from '../../shared/composition/clients';
import { LocalFunctionsHost, type LocalHostOptions, type TriggerQueue } from '../../shared/local/LocalFunctionsHost';
import { parseStorageConnection } from '../../shared/settings';
import type { Registration } from '../../shared/local/functionsRegistry';
import type { HostSettings } from '../../shared/local/hostSettings';
import { startTestAzurite, type TestAzurite } from '../support/azurite';

// ---------------------------------------------------------------------------------------------
// Fixtures: hand-made registrations on a host of their own, over this file's Azurite
// ---------------------------------------------------------------------------------------------

/** What the Functions host reports as the last run of a timer that has not run yet. */
const NEVER = '0001-01-01T00:00:00.000Z';

let azurite: TestAzurite;
let service: QueueServiceClient;
const hosts: LocalFunctionsHost[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` until it holds, failing after `timeoutMs`. */
async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** A promise the test settles when it chooses, to hold a function mid-run. */
function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** host.json settings with short intervals, so failures and retries happen within the test. */
function hostSettings(queues: Partial<HostSettings['queues']> = {}): HostSettings {
  return {
    routePrefix: 'api',
    queues: {
      batchSize: 4,
      newBatchThreshold: 2,
      maxDequeueCount: 3,
      visibilityTimeoutMs: 0,
      maxPollingIntervalMs: 100,
      messageEncoding: 'base64',
      ...queues,
    },
  };
}

function httpRegistration(
  name: string,
  route: string,
  methods: string[] | undefined,
  handler: (request: HttpRequest, context: InvocationContext) => unknown,
): Registration {
  return {
    name,
    bindings: [
      { type: 'httpTrigger', direction: 'in', name: 'request', route, ...(methods ? { methods } : {}) },
      { type: 'http', direction: 'out', name: '$return' },
    ],
    handler: (request, context) => handler(request as HttpRequest, context as InvocationContext),
  };
}

function timerRegistration(name: string, schedule: string, handler: (timer: Timer) => unknown, runOnStartup = false): Registration {
  return {
    name,
    bindings: [{ type: 'timerTrigger', direction: 'in', name: 'timer', schedule, runOnStartup }],
    handler: (timer) => handler(timer as Timer),
  };
}

function queueRegistration(
  name: string,
  queueName: string,
  handler: (body: unknown, context: InvocationContext) => unknown,
  connection = 'AzureWebJobsStorage',
): Registration {
  return {
    name,
    bindings: [{ type: 'queueTrigger', direction: 'in', name: 'message', queueName, connection }],
    handler: (body, context) => handler(body, context as InvocationContext),
  };
}

/** Writes raw bytes (latin1) to the host and reads its whole answer: for requests fetch refuses to send. */
async function rawHttp(port: number, request: string): Promise<{ statusLine: string; head: string; body: string }> {
  const socket = connect(port, '127.0.0.1');
  socket.setTimeout(5_000, () => socket.destroy(new Error('no answer within 5 s')));
  socket.end(Buffer.from(request, 'latin1'));
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const split = text.indexOf('\r\n\r\n');
  const head = text.slice(0, split);
  const raw = text.slice(split + 4);
  return { statusLine: head.split('\r\n')[0] ?? '', head, body: /transfer-encoding: chunked/i.test(head) ? unchunked(raw) : raw };
}

/** The payload of a chunked HTTP/1.1 body. */
function unchunked(raw: string): string {
  let body = '';
  for (let at = 0; ;) {
    const lineEnd = raw.indexOf('\r\n', at);
    const size = parseInt(raw.slice(at, lineEnd), 16);
    if (!size) return body;
    body += raw.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}

interface HostUnderTest {
  host: LocalFunctionsHost;
  logs: string[];
}

/**
 * A background-only host (no HTTP) whose queue triggers reach this file's Azurite through the
 * composition root's factory, as `npm start` wires it; its log lines kept. `after` stops it if the test did not.
 */
function createHost(
  registrations: Registration[],
  options: Partial<LocalHostOptions> & { appSettings?: Record<string, string> } = {},
): HostUnderTest {
  const logs: string[] = [];
  const { appSettings = {}, ...hostOptions } = options;
  const host = new LocalFunctionsHost({
    registrations,
    settings: hostSettings(),
    setting: (name) => appSettings[name],
    // As startLocalHost wires it: the binding's connection setting resolved by the settings, the client built by clients.ts.
    queueServiceFor: (connectionSetting) =>
      createQueueServiceClient(
        parseStorageConnection(connectionSetting, { AzureWebJobsStorage: azurite.connectionString, ...appSettings }),
        'trigger',
      ),
    port: 0,
    roles: { http: false, queues: true },
    log: (line) => logs.push(line),
    ...hostOptions,
  });
  hosts.push(host);
  return { host, logs };
}

async function startHost(registrations: Registration[], options: Parameters<typeof createHost>[1] = {}): Promise<HostUnderTest> {
  const started = createHost(registrations, options);
  await started.host.start();
  return started;
}

/** An HTTP-only host on a free loopback port, with the base URL it serves under. */
async function startHttpHost(registrations: Registration[]): Promise<HostUnderTest & { baseUrl: string }> {
  const started = createHost(registrations, { roles: { http: true, queues: false } });
  return { ...started, baseUrl: await started.host.start() };
}

/** A problem-details answer, reduced to what a client sees of it. */
async function problemOf(response: Response): Promise<{ status: number; contentType: string | null; allow: string | null; body: unknown }> {
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    allow: response.headers.get('allow'),
    body: await response.json(),
  };
}

const PROBLEM_JSON = 'application/problem+json; charset=utf-8';

const encode = (body: unknown) => Buffer.from(JSON.stringify(body)).toString('base64');

async function newQueue(name: string) {
  const queue = service.getQueueClient(name);
  await queue.create();
  return queue;
}

/** Every message still in a queue, visible or not. */
async function messageCount(queueName: string): Promise<number> {
  return (await service.getQueueClient(queueName).getProperties()).approximateMessagesCount ?? 0;
}

/** A queue in memory that records the calls the poller makes on it; receiving hands out `messages` once. */
class FakeQueue implements TriggerQueue {
  readonly receives: Array<{ numberOfMessages: number; visibilityTimeout: number }> = [];
  readonly settlements: string[] = [];

  constructor(
    readonly name: string,
    private readonly messages: DequeuedMessageItem[] = [],
  ) {}

  /** Puts a message in the queue, as a send by someone else would. */
  push(message: DequeuedMessageItem): void {
    this.messages.push(message);
  }

  async createIfNotExists(): Promise<unknown> {
    this.settlements.push('createIfNotExists');
    return {};
  }

  async receiveMessages(options: {
    numberOfMessages: number;
    visibilityTimeout: number;
  }): Promise<{ receivedMessageItems: DequeuedMessageItem[] }> {
    this.receives.push(options);
    return { receivedMessageItems: this.messages.splice(0, options.numberOfMessages) };
  }

  async updateMessage(
    messageId: string,
    popReceipt: string,
    message: undefined,
    visibilityTimeout: number,
  ): Promise<{ popReceipt?: string }> {
    this.settlements.push(`updateMessage ${messageId} ${popReceipt} ${message} ${visibilityTimeout}`);
    return { popReceipt: `${popReceipt}'` };
  }

  async deleteMessage(messageId: string, popReceipt: string): Promise<unknown> {
    this.settlements.push(`deleteMessage ${messageId} ${popReceipt}`);
    return {};
  }

  async sendMessage(messageText: string): Promise<unknown> {
    this.settlements.push(`sendMessage ${messageText}`);
    return {};
  }
}

function fakeMessage(messageId: string, messageText: string): DequeuedMessageItem {
  const at = new Date('2026-11-01T12:00:00.000Z');
  return { messageId, messageText, popReceipt: `receipt-${messageId}`, dequeueCount: 1, insertedOn: at, expiresOn: at, nextVisibleOn: at };
}

before(async () => {
  azurite = await startTestAzurite();
  service = QueueServiceClient.fromConnectionString(azurite.connectionString);
});

after(async () => {
  for (const host of hosts) await host.stop();
  await azurite.stop();
});

// ---------------------------------------------------------------------------------------------
// HTTP triggers
// ---------------------------------------------------------------------------------------------

describe('LocalFunctionsHost HTTP triggers', () => {
  it('routes a request under the prefix, case-insensitively and with a trailing slash, its {params} percent-decoded; lists its routes', async () => {
    const seen: unknown[] = [];
    const { host, baseUrl } = await startHttpHost([
      httpRegistration('putItem', 'items/{id}', ['put'], async (request) => {
        seen.push({
          method: request.method,
          url: request.url,
          params: { ...request.params },
          header: request.headers.get('x-test'),
          body: await request.text(),
        });
        return { status: 201, jsonBody: { stored: request.params.id } };
      }),
      httpRegistration('anyMethod', 'any', undefined, () => ({ status: 200 })),
    ]);

    assert.match(baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(`${baseUrl}/API/Items/a%2Fb/?q=1`, { method: 'PUT', headers: { 'x-test': 'yes' }, body: 'hello' });
    assert.equal(response.status, 201);
    assert.deepEqual(await response.json(), { stored: 'a/b' });
    assert.deepEqual(seen, [
      { method: 'PUT', url: `${baseUrl}/API/Items/a%2Fb/?q=1`, params: { id: 'a/b' }, header: 'yes', body: 'hello' },
    ]);
    assert.equal((await fetch(`${baseUrl}/api/any`, { method: 'PATCH' })).status, 200, 'a trigger that names no methods takes them all');
    assert.deepEqual(host.routes(), [
      { name: 'putItem', methods: ['put'], path: '/api/items/{id}' },
      { name: 'anyMethod', methods: ['*'], path: '/api/any' },
    ]);
  });

  it('answers 404 for a path no function serves, and 405 with Allow for a method none of its functions takes', async () => {
    const { baseUrl } = await startHttpHost([
      httpRegistration('getItem', 'items/{id}', ['GET'], () => ({ status: 200 })),
      httpRegistration('putItem', 'items/{id}', ['PUT'], () => ({ status: 200 })),
    ]);

    assert.deepEqual(await problemOf(await fetch(`${baseUrl}/api/nothing`)), {
      status: 404,
      contentType: PROBLEM_JSON,
      allow: null,
      body: {
        type: '/api/problems/route_not_found',
        title: 'Not Found',
        status: 404,
        detail: 'no function serves /api/nothing',
        code: 'route_not_found',
      },
    });
    assert.deepEqual(
      await problemOf(await fetch(`${baseUrl}/items/1`)),
      {
        status: 404,
        contentType: PROBLEM_JSON,
        allow: null,
        body: {
          type: '/api/problems/route_not_found',
          title: 'Not Found',
          status: 404,
          detail: 'no function serves /items/1',
          code: 'route_not_found',
        },
      },
      'only under the route prefix',
    );
    assert.deepEqual(await problemOf(await fetch(`${baseUrl}/api/items/1`, { method: 'DELETE' })), {
      status: 405,
      contentType: PROBLEM_JSON,
      allow: 'GET, PUT',
      body: {
        type: '/api/problems/method_not_allowed',
        title: 'Method Not Allowed',
        status: 405,
        detail: 'DELETE is not allowed on /api/items/1',
        code: 'method_not_allowed',
      },
    });
  });

  it('answers 400 for a path that is not valid percent-encoding and 413 for a body over 4 MiB, without running the function', async () => {
    const bodySizes: number[] = [];
    const { baseUrl } = await startHttpHost([
      httpRegistration('upload', 'uploads/{name}', ['POST'], async (request) => {
        bodySizes.push((await request.arrayBuffer()).byteLength);
        return { status: 200 };
      }),
    ]);

    assert.deepEqual(await problemOf(await fetch(`${baseUrl}/api/uploads/%zz`, { method: 'POST', body: 'x' })), {
      status: 400,
      contentType: PROBLEM_JSON,
      allow: null,
      body: {
        type: '/api/problems/malformed_path',
        title: 'Bad Request',
        status: 400,
        detail: 'the URL path is not valid percent-encoding',
        code: 'malformed_path',
        errors: [{ pointer: '#/path', detail: 'must be valid percent-encoded UTF-8', location: 'path' }],
      },
    });
    assert.deepEqual(
      await problemOf(await fetch(`${baseUrl}/api/uploads/big`, { method: 'POST', body: Buffer.alloc(4 * 1024 * 1024 + 1) })),
      {
        status: 413,
        contentType: PROBLEM_JSON,
        allow: null,
        body: {
          type: '/api/problems/body_too_large',
          title: 'Content Too Large',
          status: 413,
          detail: 'the body exceeds 4194304 bytes',
          code: 'body_too_large',
          errors: [{ pointer: '#', detail: 'must be at most 4194304 bytes', location: 'body' }],
        },
      },
    );
    assert.equal((await fetch(`${baseUrl}/api/uploads/limit`, { method: 'POST', body: Buffer.alloc(4 * 1024 * 1024) })).status, 200);
    assert.deepEqual(bodySizes, [4 * 1024 * 1024], 'only the body at the limit reached the function');
  });

  it('answers 400 for a malformed Host header or request line and 431 for oversized headers, without running the function; keeps serving', async () => {
    let runs = 0;
    const { baseUrl } = await startHttpHost([
      httpRegistration('hello', 'hello', ['GET'], () => {
        runs++;
        return { status: 200, body: 'hi' };
      }),
    ]);
    const { port } = new URL(baseUrl);
    const cases: Array<[string, string, number]> = [
      ['a Host with spaces and brackets', 'GET /api/hello HTTP/1.1\r\nHost: exa mple[.com\r\n\r\n', 400],
      ['a Host with a path', 'GET /api/hello HTTP/1.1\r\nHost: localhost/../x\r\n\r\n', 400],
      ['a Host with a lone high byte', 'GET /api/hello HTTP/1.1\r\nHost: \u00ff\u00fe\r\n\r\n', 400],
      ['a broken request line', 'GET\u0001/api/hello HTTP/1.1\r\nHost: localhost\r\n\r\n', 400],
      ['a header without a colon', 'GET /api/hello HTTP/1.1\r\nHost: localhost\r\nno colon here\r\n\r\n', 400],
      ['headers over 16 KiB', `GET /api/hello HTTP/1.1\r\nHost: localhost\r\nx-big: ${'a'.repeat(17 * 1024)}\r\n\r\n`, 431],
      ['an empty Host', 'GET /api/hello HTTP/1.1\r\nHost: \r\n\r\n', 400],
      ['a Host with two ports', 'GET /api/hello HTTP/1.1\r\nHost: localhost:80:80\r\n\r\n', 400],
      ['a Host with a backslash', 'GET /api/hello HTTP/1.1\r\nHost: \\evil\r\n\r\n', 400],
      ['CONNECT to a route', 'CONNECT /api/hello HTTP/1.1\r\nHost: localhost\r\n\r\n', 405],
      ['CONNECT to a host', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 404],
    ];
    for (const [what, request, status] of cases) {
      const answer = await rawHttp(Number(port), request);
      assert.match(answer.statusLine, new RegExp(`^HTTP/1\\.1 ${status} `), what);
      assert.match(answer.head, /content-type: application\/problem\+json/i, what);
      const problem = JSON.parse(answer.body) as { status: number; code: string };
      assert.equal(problem.status, status, what);
      assert.equal(typeof problem.code, 'string', what);
      if (status === 405) assert.match(answer.head, /\r\nallow: GET\r\n/i, what);
    }
    assert.equal(runs, 0, 'no function ran for a request the host could not read');
    assert.equal(await (await fetch(`${baseUrl}/api/hello`)).text(), 'hi', 'the host keeps serving');
  });

  it('stops even when a client half-closed its socket after sending a request (Node ends such a socket unanswered)', async () => {
    const { host, baseUrl } = await startHttpHost([
      httpRegistration('slow', 'slow', ['GET'], async () => {
        await sleep(50);
        return { status: 200, body: 'late' };
      }),
    ]);
    const answer = await rawHttp(Number(new URL(baseUrl).port), 'GET /api/slow HTTP/1.1\r\nHost: localhost\r\n\r\n');
    assert.equal(answer.statusLine, '', 'no answer on a socket the server has ended');

    const stopped = await Promise.race([host.stop().then(() => 'stopped'), sleep(10_000).then(() => 'still stopping after 10 s')]);

    assert.equal(stopped, 'stopped');
  });

  it('answers 204 for a function that returns nothing, and 500 (logged) for one that throws', async () => {
    const { baseUrl, logs } = await startHttpHost([
      httpRegistration('nothing', 'nothing', ['GET'], () => undefined),
      httpRegistration('throws', 'throws', ['GET'], () => {
        throw new Error('boom');
      }),
    ]);

    const empty = await fetch(`${baseUrl}/api/nothing`);
    assert.equal(empty.status, 204);
    assert.equal(await empty.text(), '');
    assert.deepEqual(await problemOf(await fetch(`${baseUrl}/api/throws`)), {
      status: 500,
      contentType: PROBLEM_JSON,
      allow: null,
      body: {
        type: '/api/problems/internal_error',
        title: 'Internal Server Error',
        status: 500,
        detail: 'the local host failed to run the function',
        code: 'internal_error',
      },
    });
    assert.equal(logs.length, 1, logs.join('\n'));
    assert.match(logs[0] as string, /^http: Error: boom\n\s+at /);
  });

  it('answers a body given whole (text or JSON) in one piece with its Content-Length, as the Functions host does', async () => {
    const { baseUrl } = await startHttpHost([
      httpRegistration('json', 'json', ['GET'], () => ({ status: 200, jsonBody: { café: 'crème' } })),
      httpRegistration('text', 'text', ['GET'], () => ({ status: 201, headers: { 'content-type': 'text/plain' }, body: 'made' })),
    ]);

    const [json, text] = [await fetch(`${baseUrl}/api/json`), await fetch(`${baseUrl}/api/text`)];

    const expected = JSON.stringify({ café: 'crème' });
    assert.equal(json.headers.get('content-length'), String(Buffer.byteLength(expected)));
    assert.equal(json.headers.get('transfer-encoding'), null);
    assert.equal(await json.text(), expected);
    assert.deepEqual([text.status, text.headers.get('content-length'), await text.text()], [201, '4', 'made']);
  });

  it('streams a response as the function produces it', async () => {
    const secondChunk = gate();
    async function* chunks() {
      yield new TextEncoder().encode('first,');
      await secondChunk.opened;
      yield new TextEncoder().encode('second');
    }
    const { baseUrl } = await startHttpHost([
      httpRegistration(
        'stream',
        'stream',
        ['GET'],
        () => new HttpResponse({ status: 200, headers: { 'content-type': 'text/plain' }, body: chunks() }),
      ),
    ]);

    const reading = fetch(`${baseUrl}/api/stream`).then(async (response) => {
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      return { response, reader, first: await reader.read() };
    });
    // The function holds its second chunk back until the first has arrived: a buffering host would not answer in time.
    const arrived = await Promise.race([reading, sleep(3_000).then(() => undefined)]);
    secondChunk.open();
    assert.ok(arrived, 'the headers and the first chunk arrived while the function was still producing');
    const decoder = new TextDecoder();
    assert.equal(arrived.response.headers.get('content-type'), 'text/plain');
    assert.equal(decoder.decode(arrived.first.value), 'first,');
    let rest = '';
    for (let read = await arrived.reader.read(); !read.done; read = await arrived.reader.read()) rest += decoder.decode(read.value);
    assert.equal(rest, 'second');
  });

  it('stop() lets a request in progress finish, then closes the server', async () => {
    const reply = gate();
    let started = false;
    const { host, baseUrl } = await startHttpHost([
      httpRegistration('slow', 'slow', ['GET'], async () => {
        started = true;
        await reply.opened;
        return { status: 200, body: 'done' };
      }),
    ]);

    const response = fetch(`${baseUrl}/api/slow`);
    await waitFor(() => started, 2_000, 'the function to start');
    let stopped = false;
    const stopping = host.stop().then(() => {
      stopped = true;
    });
    await sleep(200);
    assert.equal(stopped, false, 'stop() waits for the request');
    reply.open();
    const answer = await response;
    assert.equal(answer.status, 200);
    assert.equal(await answer.text(), 'done');
    await stopping;
    await assert.rejects(fetch(`${baseUrl}/api/slow`), /fetch failed/);
  });
});

// ---------------------------------------------------------------------------------------------
// Timer triggers
// ---------------------------------------------------------------------------------------------

describe('LocalFunctionsHost timer triggers', () => {
  it('runs `*/1 * * * * *` every second with a Timer shaped as @azure/functions has it; a failed run leaves the schedule going', async () => {
    const runs: Timer[] = [];
    const { host, logs } = await startHost([
      timerRegistration('everySecond', '*/1 * * * * *', (timer) => {
        runs.push(timer);
        if (runs.length === 1) throw new Error('the first run fails');
      }),
    ]);

    await waitFor(() => runs.length === 2, 3_000, 'two runs');
    await host.stop();

    assert.equal(runs.length, 2);
    const [first, second] = runs as [Timer, Timer];
    for (const timer of runs) {
      assert.equal(timer.isPastDue, false);
      assert.deepEqual(timer.schedule, { adjustForDST: false });
      assert.equal(Date.parse(timer.scheduleStatus.next) % 1000, 0, 'occurrences fall on whole seconds');
    }
    assert.equal(Date.parse(second.scheduleStatus.next) - Date.parse(first.scheduleStatus.next), 1000);
    assert.deepEqual(first.scheduleStatus, { last: NEVER, next: first.scheduleStatus.next, lastUpdated: NEVER });
    assert.equal(second.scheduleStatus.last, first.scheduleStatus.next, 'the second run reports the first as its last');
    assert.deepEqual(logs, [
      `[everySecond] timer "*/1 * * * * *" (UTC), next run at ${first.scheduleStatus.next}`,
      '[everySecond] timer run failed: the first run fails',
    ]);
  });

  it('never overlaps a run with itself: an occurrence due during a slow run is skipped, and stop() waits for the run', async () => {
    const runs: Timer[] = [];
    let finished = 0;
    let running = 0;
    let mostAtOnce = 0;
    const { host, logs } = await startHost([
      timerRegistration('slowTick', '*/1 * * * * *', async (timer) => {
        runs.push(timer);
        running++;
        mostAtOnce = Math.max(mostAtOnce, running);
        await sleep(1_500);
        running--;
        finished++;
      }),
    ]);

    await waitFor(() => runs.length === 2, 4_000, 'a second run');
    await host.stop();

    assert.equal(finished, 2, 'stop() resolved only after the run in progress had finished');
    assert.equal(mostAtOnce, 1);
    const [first, second] = runs.map((timer) => Date.parse(timer.scheduleStatus.next)) as [number, number];
    assert.equal(second - first, 2000, 'the occurrence between the two runs was skipped');
    assert.deepEqual(logs, [
      `[slowTick] timer "*/1 * * * * *" (UTC), next run at ${new Date(first).toISOString()}`,
      `[slowTick] skipped the run due at ${new Date(first + 1000).toISOString()}: the previous run is still going`,
    ]);
    await sleep(1_100);
    assert.equal(runs.length, 2, 'no run after stop()');
  });

  it('resolves a %SETTING% schedule from the app settings, and refuses to start when the setting or the schedule is bad', async () => {
    const runs: Timer[] = [];
    const { host } = await startHost(
      [
        timerRegistration('fromSetting', '%TICK_SCHEDULE%', (timer) => {
          runs.push(timer);
        }),
      ],
      {
        appSettings: { TICK_SCHEDULE: '*/1 * * * * *' },
      },
    );
    await waitFor(() => runs.length === 1, 1_500, 'a run on the resolved schedule');
    await host.stop();
    assert.equal(runs.length, 1);

    await assert.rejects(
      createHost([timerRegistration('unset', '%NO_SUCH_SETTING%', () => {})]).host.start(),
      /^Error: function unset: app setting NO_SUCH_SETTING, used in "%NO_SUCH_SETTING%", is not set$/,
    );
    await assert.rejects(
      createHost([timerRegistration('badSchedule', '%BAD%', () => {})], { appSettings: { BAD: '0 0 25 * * *' } }).host.start(),
      /^Error: function badSchedule: NCRONTAB schedule "0 0 25 \* \* \*": the hour field "25" is invalid/,
    );
  });

  it('runs a runOnStartup timer at once, then waits for its (yearly) schedule; the timers role turns timers off', async () => {
    const runs: Timer[] = [];
    const { host } = await startHost([
      timerRegistration(
        'atStartup',
        '0 0 0 1 1 *',
        (timer) => {
          runs.push(timer);
        },
        true,
      ),
    ]);
    await waitFor(() => runs.length === 1, 500, 'the start-up run');
    await sleep(300);
    await host.stop();

    assert.equal(runs.length, 1, 'the next New Year is too far away to run now (longer than setTimeout can wait at once)');
    const [run] = runs as [Timer];
    assert.equal(run.isPastDue, false);
    assert.equal(run.scheduleStatus.last, NEVER);
    assert.equal(run.scheduleStatus.next, `${new Date().getUTCFullYear() + 1}-01-01T00:00:00.000Z`);

    const withoutTimers: Timer[] = [];
    const { host: queuesOnly } = await startHost(
      [
        timerRegistration(
          'offRole',
          '*/1 * * * * *',
          (timer) => {
            withoutTimers.push(timer);
          },
          true,
        ),
      ],
      {
        roles: { http: false, queues: true, timers: false },
      },
    );
    await sleep(1_100);
    await queuesOnly.stop();
    assert.equal(withoutTimers.length, 0);
  });
});

// ---------------------------------------------------------------------------------------------
// Queue triggers: the injected queue service, lease renewal and poison messages
// ---------------------------------------------------------------------------------------------

describe('LocalFunctionsHost queue triggers', () => {
  it('reaches storage only through queueServiceFor, given the connection setting the binding names; decodes, runs and settles', async () => {
    const queue = new FakeQueue('jobs', [fakeMessage('m1', encode({ job: 1 })), fakeMessage('m2', 'not base64!')]);
    const poison = new FakeQueue('jobs-poison');
    const connections: string[] = [];
    const queueNames: string[] = [];
    const runs: Array<{ body: unknown; metadata: unknown }> = [];
    const { host, logs } = await startHost(
      [
        queueRegistration(
          'fromFake',
          'jobs',
          (body, context) => {
            runs.push({ body, metadata: context.triggerMetadata });
          },
          'FakeStorage',
        ),
      ],
      {
        settings: hostSettings({ visibilityTimeoutMs: 1_500 }),
        queueServiceFor: (connection) => {
          connections.push(connection);
          return {
            getQueueClient: (name) => {
              queueNames.push(name);
              return name === 'jobs' ? queue : poison;
            },
          };
        },
      },
    );

    await waitFor(() => queue.settlements.length === 3, 2_000, 'both messages to be settled');
    await host.stop();

    assert.deepEqual(connections, ['FakeStorage']);
    assert.deepEqual(queueNames, ['jobs', 'jobs-poison']);
    assert.deepEqual(
      queue.receives[0],
      { numberOfMessages: 4, visibilityTimeout: 30 },
      'a batch of batchSize, leased for the default 30 s',
    );
    const at = new Date('2026-11-01T12:00:00.000Z');
    assert.deepEqual(runs, [
      {
        body: { job: 1 },
        metadata: {
          id: 'm1',
          dequeueCount: 1,
          insertionTime: at,
          expirationTime: at,
          nextVisibleTime: at,
          popReceipt: 'receipt-m1',
          queueTrigger: encode({ job: 1 }),
        },
      },
    ]);
    assert.deepEqual(
      [...queue.settlements].sort(),
      ['createIfNotExists', 'deleteMessage m1 receipt-m1', 'updateMessage m2 receipt-m2 undefined 2'],
      'the failed message is released for the retry delay, rounded up to whole seconds',
    );
    assert.deepEqual(poison.settlements, []);
    assert.deepEqual(logs, ['[fromFake] message m2 failed on dequeue 1: the message is not base64 (host.json messageEncoding is base64)']);
  });

  it('polls a queue at once when this process sends to it, instead of finishing its back-off on the empty queue', async () => {
    const queue = new FakeQueue('wake');
    const runs: unknown[] = [];
    await startHost(
      [
        queueRegistration('woken', 'wake', (body) => {
          runs.push(body);
        }),
      ],
      {
        // Without the wake-up, a message sent now would wait for a poll up to a minute away.
        settings: hostSettings({ maxPollingIntervalMs: 60_000 }),
        queueServiceFor: () => ({ getQueueClient: (name) => (name === 'wake' ? queue : new FakeQueue(name)) }),
      },
    );
    // Six empty polls: the poller now sleeps 1.6 s, doubling each time.
    await waitFor(() => queue.receives.length >= 6, 5_000, 'the poller to back off');
    const sender = {
      name: 'wake',
      createIfNotExists: async () => ({}),
      getProperties: async () => ({}),
      sendMessage: async (text: string) => {
        queue.push(fakeMessage('sent', text));
        return {};
      },
    };
    const bus = new StorageQueueMessageBus(() => sender as never, {
      endpointCreate: 'wake',
      endpointDelete: 'other',
      auditEvents: 'events',
    });

    await bus.send('endpointCreate', { messageId: 'm', body: { job: 'now' }, contentType: 'application/json' });

    await waitFor(() => runs.length === 1, 1_000, 'the message to run before the back-off ends');
    assert.deepEqual(runs, [{ job: 'now' }]);
  });

  it('polls again at once after a poll that may have missed a send this process made while it was in flight', async () => {
    const queue = new FakeQueue('missed');
    const receive = queue.receiveMessages.bind(queue);
    // The sixth poll finds the queue empty, but the process sends while it is in flight: its message lands just after.
    queue.receiveMessages = async (options) => {
      const answer = await receive(options);
      if (queue.receives.length === 6) {
        queueSent('missed');
        queue.push(fakeMessage('late', encode({ job: 'late' })));
      }
      return answer;
    };
    const runs: unknown[] = [];
    await startHost(
      [
        queueRegistration('missed', 'missed', (body) => {
          runs.push(body);
        }),
      ],
      {
        settings: hostSettings({ maxPollingIntervalMs: 60_000 }),
        queueServiceFor: () => ({ getQueueClient: (name) => (name === 'missed' ? queue : new FakeQueue(name)) }),
      },
    );

    await waitFor(() => queue.receives.length >= 6, 5_000, 'the sixth poll');
    // Without the send remembered, the poller would now sleep 1.6 s.
    await waitFor(() => runs.length === 1, 1_000, 'the message to run before the back-off would end');
    assert.deepEqual(runs, [{ job: 'late' }]);
  });

  it('hands every message to the function as the Functions host does under messageEncoding none: JSON parsed, any other text as is', async () => {
    const texts = ['{"job":1}', 'not base64!', encode({ job: 2 }), '\ud800 lone surrogate'];
    const queue = new FakeQueue(
      'jobs',
      texts.map((text, i) => fakeMessage(`m${i + 1}`, text)),
    );
    const poison = new FakeQueue('jobs-poison');
    const bodies: unknown[] = [];
    const { host, logs } = await startHost(
      [
        queueRegistration('fromFake', 'jobs', (body) => {
          bodies.push(body);
        }),
      ],
      {
        settings: hostSettings({ messageEncoding: 'none' }),
        queueServiceFor: () => ({ getQueueClient: (name) => (name === 'jobs' ? queue : poison) }),
      },
    );

    await waitFor(() => queue.settlements.filter((s) => s.startsWith('deleteMessage')).length === texts.length, 2_000, 'every message run');
    await host.stop();

    assert.deepEqual(bodies, [{ job: 1 }, 'not base64!', encode({ job: 2 }), '\ud800 lone surrogate']);
    assert.deepEqual(poison.settlements, []);
    assert.deepEqual(logs, []);
  });

  it("refuses to start, naming the setting, when a queue trigger's connection setting is not set", async () => {
    const unset = createHost([queueRegistration('unconnected', 'never-polled', () => undefined, 'OtherStorage')]);

    await assert.rejects(
      unset.host.start(),
      /^Error: function unconnected: invalid configuration:\n {2}- OtherStorage: is required: a Storage connection string \(UseDevelopmentStorage=true for Azurite\), or an identity-based connection: OtherStorage__accountName, or OtherStorage__tableServiceUri and OtherStorage__queueServiceUri$/,
    );
    assert.deepEqual(unset.logs, []);
  });

  it('refuses a message lease Azure Storage would not accept', () => {
    for (const messageLeaseSeconds of [0, 1.5, 7 * 24 * 3600 + 1]) {
      assert.throws(
        () => createHost([], { messageLeaseSeconds }),
        new RegExp(`^Error: messageLeaseSeconds must be a whole number from 1 to 604800, not ${messageLeaseSeconds}$`),
      );
    }
  });

  it('renews the lease of a message whose function outlasts it: one run, no redelivery, deleted afterwards', async () => {
    const queueName = 'lease-outlasted';
    const queue = await newQueue(queueName);
    await queue.sendMessage(encode({ job: 'slow' }));
    const runs: Array<{ body: unknown; dequeueCount: unknown }> = [];
    const { host, logs } = await startHost(
      [
        queueRegistration('slowWorker', queueName, async (body, context) => {
          runs.push({ body, dequeueCount: context.triggerMetadata?.dequeueCount });
          await sleep(5_000);
        }),
      ],
      { messageLeaseSeconds: 2 },
    );

    await waitFor(() => runs.length === 1, 2_000, 'the run');
    await sleep(3_000);
    assert.equal((await queue.peekMessages()).peekedMessageItems.length, 0, 'still invisible after the first 2 s lease ran out');
    await waitFor(async () => (await messageCount(queueName)) === 0, 4_000, 'the message to be deleted');
    await host.stop();

    assert.deepEqual(runs, [{ body: { job: 'slow' }, dequeueCount: 1 }]);
    assert.deepEqual(
      logs.filter((line) => /could not (renew|settle)/.test(line)),
      [],
    );
    assert.deepEqual(logs, []);
  });

  it('moves a message dequeued more than maxDequeueCount times to <queue>-poison without running the function', async () => {
    const queueName = 'died-mid-run';
    const queue = await newQueue(queueName);
    const text = encode({ job: 'crashes its worker' });
    const { messageId } = await queue.sendMessage(text);
    // Two workers received it and died: each lease ran out with the message neither deleted nor poisoned.
    for (let attempt = 0; attempt < 2; attempt++) {
      const [message] = (await queue.receiveMessages({ visibilityTimeout: 30 })).receivedMessageItems;
      assert.ok(message, `receive ${attempt + 1}`);
      await queue.updateMessage(message.messageId, message.popReceipt, undefined, 0);
    }
    const runs: unknown[] = [];
    const { host, logs } = await startHost(
      [
        queueRegistration('neverRuns', queueName, (body) => {
          runs.push(body);
        }),
      ],
      {
        settings: hostSettings({ maxDequeueCount: 2 }),
      },
    );

    const poison = service.getQueueClient(`${queueName}-poison`);
    await waitFor(async () => (await poison.exists()) && (await messageCount(poison.name)) === 1, 3_000, 'the poison message');
    await host.stop();

    assert.deepEqual(runs, []);
    assert.deepEqual(
      (await poison.peekMessages()).peekedMessageItems.map((message) => message.messageText),
      [text],
    );
    assert.equal(await messageCount(queueName), 0);
    assert.deepEqual(logs, [
      `[neverRuns] message ${messageId} moved to died-mid-run-poison without running: dequeued 3 times, over maxDequeueCount 2`,
    ]);
  });

  it('still moves a message to <queue>-poison after its function failed on the last allowed dequeue', async () => {
    const queueName = 'always-fails';
    const queue = await newQueue(queueName);
    const text = encode({ job: 'fails' });
    const { messageId } = await queue.sendMessage(text);
    const dequeueCounts: unknown[] = [];
    const { host, logs } = await startHost(
      [
        queueRegistration('failing', queueName, (_body, context) => {
          dequeueCounts.push(context.triggerMetadata?.dequeueCount);
          throw new Error('always fails');
        }),
      ],
      { settings: hostSettings({ maxDequeueCount: 2 }) },
    );

    const poison = service.getQueueClient(`${queueName}-poison`);
    await waitFor(async () => (await poison.exists()) && (await messageCount(poison.name)) === 1, 3_000, 'the poison message');
    await host.stop();

    assert.deepEqual(dequeueCounts, [1, 2]);
    assert.deepEqual(
      (await poison.peekMessages()).peekedMessageItems.map((message) => message.messageText),
      [text],
    );
    assert.equal(await messageCount(queueName), 0);
    assert.deepEqual(logs, [
      `[failing] message ${messageId} failed on dequeue 1: always fails`,
      `[failing] message ${messageId} failed on dequeue 2: always fails`,
      `[failing] message ${messageId} moved to always-fails-poison after 2 attempts`,
    ]);
  });
});
