import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { InvocationContext, Timer } from '@azure/functions';
import { QueueServiceClient } from '@azure/storage-queue';
import { LocalFunctionsHost, type LocalHostOptions } from '../../shared/local/LocalFunctionsHost';
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

/** host.json settings with short intervals, so failures and retries happen within the test. */
function hostSettings(queues: Partial<HostSettings['queues']> = {}): HostSettings {
  return {
    routePrefix: 'api',
    queues: { batchSize: 4, newBatchThreshold: 2, maxDequeueCount: 3, visibilityTimeoutMs: 0, maxPollingIntervalMs: 100, messageEncoding: 'base64', ...queues },
  };
}

function timerRegistration(name: string, schedule: string, handler: (timer: Timer) => unknown, runOnStartup = false): Registration {
  return {
    name,
    bindings: [{ type: 'timerTrigger', direction: 'in', name: 'timer', schedule, runOnStartup }],
    handler: (timer) => handler(timer as Timer),
  };
}

function queueRegistration(name: string, queueName: string, handler: (body: unknown, context: InvocationContext) => unknown): Registration {
  return {
    name,
    bindings: [{ type: 'queueTrigger', direction: 'in', name: 'message', queueName, connection: 'AzureWebJobsStorage' }],
    handler: (body, context) => handler(body, context as InvocationContext),
  };
}

interface HostUnderTest {
  host: LocalFunctionsHost;
  logs: string[];
}

/** A background-only host (no HTTP), its log lines kept; `after` stops it if the test did not. */
function createHost(registrations: Registration[], options: Partial<LocalHostOptions> & { appSettings?: Record<string, string> } = {}): HostUnderTest {
  const logs: string[] = [];
  const { appSettings = {}, ...hostOptions } = options;
  const host = new LocalFunctionsHost({
    registrations,
    settings: hostSettings(),
    setting: (name) => (name === 'AzureWebJobsStorage' ? azurite.connectionString : appSettings[name]),
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

before(async () => {
  azurite = await startTestAzurite();
  service = QueueServiceClient.fromConnectionString(azurite.connectionString);
});

after(async () => {
  for (const host of hosts) await host.stop();
  await azurite.stop();
});

// ---------------------------------------------------------------------------------------------
// Timer triggers
// ---------------------------------------------------------------------------------------------

describe('LocalFunctionsHost timer triggers', () => {
  it('runs `*/1 * * * * *` every second with a Timer shaped as @azure/functions has it; a failed run leaves the schedule going', async () => {
    const runs: Timer[] = [];
    const { host, logs } = await startHost([timerRegistration('everySecond', '*/1 * * * * *', (timer) => {
      runs.push(timer);
      if (runs.length === 1) throw new Error('the first run fails');
    })]);

    await waitFor(() => runs.length >= 2, 3_000, 'two runs');
    await host.stop();

    const [first, second] = runs as [Timer, Timer];
    for (const timer of runs) {
      assert.equal(timer.isPastDue, false);
      assert.deepEqual(timer.schedule, { adjustForDST: false });
      assert.equal(Date.parse(timer.scheduleStatus.next) % 1000, 0, 'occurrences fall on whole seconds');
    }
    assert.equal(Date.parse(second.scheduleStatus.next) - Date.parse(first.scheduleStatus.next), 1000);
    assert.deepEqual(first.scheduleStatus, { last: NEVER, next: first.scheduleStatus.next, lastUpdated: NEVER });
    assert.equal(second.scheduleStatus.last, first.scheduleStatus.next, 'the second run reports the first as its last');
    assert.ok(logs.some((line) => line === '[everySecond] timer run failed: the first run fails'), logs.join('\n'));
  });

  it('never overlaps a run with itself: an occurrence due during a slow run is skipped, and stop() waits for the run', async () => {
    let started = 0;
    let finished = 0;
    let running = 0;
    let mostAtOnce = 0;
    const { host, logs } = await startHost([timerRegistration('slowTick', '*/1 * * * * *', async () => {
      started++;
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      await sleep(1_500);
      running--;
      finished++;
    })]);

    await waitFor(() => started === 2, 4_000, 'a second run');
    await host.stop();

    assert.equal(finished, 2, 'stop() resolved only after the run in progress had finished');
    assert.equal(mostAtOnce, 1);
    assert.ok(logs.some((line) => line.startsWith('[slowTick] skipped the run due at')), logs.join('\n'));
    await sleep(1_100);
    assert.equal(started, 2, 'no run after stop()');
  });

  it('resolves a %SETTING% schedule from the app settings, and refuses to start when the setting or the schedule is bad', async () => {
    const runs: Timer[] = [];
    const { host } = await startHost([timerRegistration('fromSetting', '%TICK_SCHEDULE%', (timer) => { runs.push(timer); })], {
      appSettings: { TICK_SCHEDULE: '*/1 * * * * *' },
    });
    await waitFor(() => runs.length >= 1, 1_500, 'a run on the resolved schedule');
    await host.stop();

    await assert.rejects(createHost([timerRegistration('unset', '%NO_SUCH_SETTING%', () => {})]).host.start(),
      /^Error: function unset: app setting NO_SUCH_SETTING, used in "%NO_SUCH_SETTING%", is not set$/);
    await assert.rejects(createHost([timerRegistration('badSchedule', '%BAD%', () => {})], { appSettings: { BAD: '0 0 25 * * *' } }).host.start(),
      /^Error: function badSchedule: NCRONTAB schedule "0 0 25 \* \* \*": the hour field "25" is invalid/);
  });

  it('runs a runOnStartup timer at once, then waits for its (yearly) schedule; the timers role turns timers off', async () => {
    const runs: Timer[] = [];
    const { host } = await startHost([timerRegistration('atStartup', '0 0 0 1 1 *', (timer) => { runs.push(timer); }, true)]);
    await waitFor(() => runs.length === 1, 500, 'the start-up run');
    await sleep(300);
    await host.stop();

    assert.equal(runs.length, 1, 'the next New Year is too far away to run now (longer than setTimeout can wait at once)');
    const [run] = runs as [Timer];
    assert.equal(run.isPastDue, false);
    assert.equal(run.scheduleStatus.last, NEVER);
    assert.equal(run.scheduleStatus.next, `${new Date().getUTCFullYear() + 1}-01-01T00:00:00.000Z`);

    const withoutTimers: Timer[] = [];
    const { host: queuesOnly } = await startHost([timerRegistration('offRole', '*/1 * * * * *', (timer) => { withoutTimers.push(timer); }, true)], {
      roles: { http: false, queues: true, timers: false },
    });
    await sleep(1_100);
    await queuesOnly.stop();
    assert.equal(withoutTimers.length, 0);
  });
});

// ---------------------------------------------------------------------------------------------
// Queue triggers: lease renewal and poison messages
// ---------------------------------------------------------------------------------------------

describe('LocalFunctionsHost queue triggers', () => {
  it('renews the lease of a message whose function outlasts it: one run, no redelivery, deleted afterwards', async () => {
    const queueName = 'lease-outlasted';
    const queue = await newQueue(queueName);
    await queue.sendMessage(encode({ job: 'slow' }));
    const runs: Array<{ body: unknown; dequeueCount: unknown }> = [];
    const { host, logs } = await startHost([queueRegistration('slowWorker', queueName, async (body, context) => {
      runs.push({ body, dequeueCount: context.triggerMetadata?.dequeueCount });
      await sleep(5_000);
    })], { messageLeaseSeconds: 2 });

    await waitFor(() => runs.length === 1, 2_000, 'the run');
    await sleep(3_000);
    assert.equal((await queue.peekMessages()).peekedMessageItems.length, 0, 'still invisible after the first 2 s lease ran out');
    await waitFor(async () => (await messageCount(queueName)) === 0, 4_000, 'the message to be deleted');
    await host.stop();

    assert.deepEqual(runs, [{ body: { job: 'slow' }, dequeueCount: 1 }]);
    assert.deepEqual(logs.filter((line) => /could not (renew|settle)/.test(line)), []);
  });

  it('moves a message dequeued more than maxDequeueCount times to <queue>-poison without running the function', async () => {
    const queueName = 'died-mid-run';
    const queue = await newQueue(queueName);
    const text = encode({ job: 'crashes its worker' });
    await queue.sendMessage(text);
    // Two workers received it and died: each lease ran out with the message neither deleted nor poisoned.
    for (let attempt = 0; attempt < 2; attempt++) {
      const [message] = (await queue.receiveMessages({ visibilityTimeout: 30 })).receivedMessageItems;
      assert.ok(message, `receive ${attempt + 1}`);
      await queue.updateMessage(message.messageId, message.popReceipt, undefined, 0);
    }
    const runs: unknown[] = [];
    const { host, logs } = await startHost([queueRegistration('neverRuns', queueName, (body) => { runs.push(body); })], {
      settings: hostSettings({ maxDequeueCount: 2 }),
    });

    const poison = service.getQueueClient(`${queueName}-poison`);
    await waitFor(async () => (await poison.exists()) && (await messageCount(poison.name)) === 1, 3_000, 'the poison message');
    await host.stop();

    assert.deepEqual(runs, []);
    assert.deepEqual((await poison.peekMessages()).peekedMessageItems.map((message) => message.messageText), [text]);
    assert.equal(await messageCount(queueName), 0);
    assert.ok(logs.some((line) => /^\[neverRuns\] message \S+ moved to died-mid-run-poison without running: dequeued 3 times, over maxDequeueCount 2$/.test(line)), logs.join('\n'));
  });

  it('still moves a message to <queue>-poison after its function failed on the last allowed dequeue', async () => {
    const queueName = 'always-fails';
    const queue = await newQueue(queueName);
    const text = encode({ job: 'fails' });
    await queue.sendMessage(text);
    const dequeueCounts: unknown[] = [];
    const { host } = await startHost([queueRegistration('failing', queueName, (_body, context) => {
      dequeueCounts.push(context.triggerMetadata?.dequeueCount);
      throw new Error('always fails');
    })], { settings: hostSettings({ maxDequeueCount: 2 }) });

    const poison = service.getQueueClient(`${queueName}-poison`);
    await waitFor(async () => (await poison.exists()) && (await messageCount(poison.name)) === 1, 3_000, 'the poison message');
    await host.stop();

    assert.deepEqual(dequeueCounts, [1, 2]);
    assert.deepEqual((await poison.peekMessages()).peekedMessageItems.map((message) => message.messageText), [text]);
    assert.equal(await messageCount(queueName), 0);
  });
});
