import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QueueServiceClient } from '@azure/storage-queue';
import { encodeQueueMessage } from '../../shared/adapters/transportRules';
import { changeRequestIdForMessage } from '../../shared/application/changeRequests/messages';
import type { AuditRecord } from '../../shared/domain/audit';
import { startAzurite, type AzuriteProcess, type AzuritePorts } from '../../shared/local/azurite';
import { startLocalHost, type RunningLocalHost } from '../../shared/local/startLocalHost';
import { FaultStep } from '../support/faultInjectionWorker';
import { APP_ROOT, apiClient, drainQueue, eventually, useTestKeys, type ApiResponse } from '../support/localHost';
import { aTopology, type Topology } from '../support/apiData';
import { aCreateRequest, aDeleteRequest } from '../support/builders';
import { freePort } from '../support/freePort';

/**
 * Fault injection: the worker (queue and timer triggers) runs as its own process and SIGKILLs itself
 * at each step of applying a change, KILLS_PER_STEP times per step, while an HTTP host in this
 * process keeps accepting requests; then Azurite itself is stopped and restarted mid-run. Afterwards
 * every accepted request must be settled exactly as a calm serial run would settle it, with one
 * audit record and one event id per change. `npm run soak` runs the same suite with more kills.
 */
const KILLS_PER_STEP = Number(process.env.FAULT_KILLS_PER_STEP ?? 20);
const ADDRESSES = 8;
const WORKER = path.join(APP_ROOT, 'dist', 'test', 'support', 'faultInjectionWorker.js');
// Short leases and re-drive times, so a killed worker's messages come back within seconds; no
// request may run out of re-sends, however many of its messages the kills poison.
const RELIABILITY_ENV = {
  LOCAL_HOST_MESSAGE_LEASE_SECONDS: '2',
  REDRIVE_AFTER_SECONDS: '2',
  REDRIVE_MAX_SENDS: '1000',
  REDRIVE_SCHEDULE: '*/1 * * * * *',
};

const workspace = mkdtempSync(path.join(os.tmpdir(), 'pchat-faults-'));
let ports: AzuritePorts;
let azurite: AzuriteProcess;
let host: RunningLocalHost;
let call: ReturnType<typeof apiClient>;
let queues: QueueServiceClient;

/** What the suite counts, for the README's reliability section. */
const figures = {
  workerRuns: 0,
  kills: {} as Record<string, number>,
  requestsAccepted: 0,
  unavailableAnswers: 0,
  duplicateEffects: 0,
  requestsLost: 0,
  repeatedEventDeliveries: 0,
};

// --- the requests and what a serial run makes of them --------------------------------------------

/** One accepted request and the outcome a serial run gives it. */
interface Expected {
  id: string;
  sipAddress: string;
  outcome: string;
}
const accepted: Expected[] = [];
/** The suite's own SIP domain with a pool per address. */
let topology: Topology;
const addressOf = (n: number) => topology.address(`f${n}`);
const poolOf = (n: number) => topology.pool(n - 1);
/** Per address, how many requests were accepted; the k-th is create, create, delete, delete, … */
const perAddress = new Map<number, number>();
const OUTCOMES = ['applied', 'sip_address_held_by_endpoint', 'applied', 'endpoint_not_found'];

function nextRequest(n: number): { body: Record<string, unknown>; outcome: string } {
  const k = perAddress.get(n) ?? 0;
  perAddress.set(n, k + 1);
  const body = k % 4 < 2 ? aCreateRequest({ sipAddress: addressOf(n), poolFqdn: poolOf(n) }) : aDeleteRequest({ sipAddress: addressOf(n) });
  return { body, outcome: OUTCOMES[k % 4] as string };
}

/** Submits the next request for address n the way a careful client does: the same Idempotency-Key until it gets a 202. */
async function submit(
  n: number,
  onUnavailable: (response: ApiResponse) => void = () => assert.fail('storage is up: no 503 expected'),
): Promise<void> {
  const { body, outcome } = nextRequest(n);
  const key = `fault-${n}-${perAddress.get(n)}`;
  for (;;) {
    const response = await call('POST', '/change-requests', body, { 'idempotency-key': key });
    if (response.status === 202) {
      accepted.push({ id: response.body.id, sipAddress: addressOf(n), outcome });
      figures.requestsAccepted++;
      return;
    }
    assert.equal(response.status, 503, JSON.stringify(response.body));
    onUnavailable(response);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Automation puts a delete of an address nobody holds straight on the queue: it must be rejected endpoint_not_found, once. */
async function enqueueAutomationDelete(k: number): Promise<void> {
  const sipAddress = topology.address(`ghost${k}`);
  const { messageId } = await queues
    .getQueueClient('endpoint-delete')
    .sendMessage(encodeQueueMessage({ schemaVersion: 1, operation: 'delete', sipAddress, actor: 'fault-bot' }));
  accepted.push({ id: changeRequestIdForMessage('endpoint-delete', messageId), sipAddress, outcome: 'endpoint_not_found' });
  figures.requestsAccepted++;
}

// --- the worker process ---------------------------------------------------------------------------

interface Worker {
  child: ChildProcess;
  exited: Promise<NodeJS.Signals | number | null>;
  output: () => string;
}

function startWorker(step: FaultStep, at = 1): Worker {
  figures.workerRuns++;
  const child = spawn(process.execPath, [WORKER], {
    env: { ...process.env, ...RELIABILITY_ENV, PCHAT_FAULT_WORKER: '1', FAULT_STEP: step, FAULT_AT: String(at) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  return { child, exited, output: () => output };
}

async function stopWorker(worker: Worker): Promise<void> {
  if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGTERM');
  await worker.exited;
}

/** Resolves with the exit signal, or null if the worker is still alive after `ms`. */
const exitWithin = (worker: Worker, ms: number) =>
  Promise.race([worker.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), ms))]);

// --- checking the outcome -------------------------------------------------------------------------

/** What is still open, for the failure message: requests not settled (or never admitted), events in the outbox, poisoned messages. */
async function unsettled() {
  const deps = host.dependencies;
  const open = [];
  for (const request of accepted) {
    const stored = await deps.queries.changeRequest(request.id);
    if (stored?.status !== 'applied' && stored?.status !== 'rejected')
      open.push({ ...request, status: stored?.status ?? 'never admitted', ticket: stored?.ticket });
  }
  const poison = await Promise.all(
    ['endpoint-create-poison', 'endpoint-delete-poison'].map(async (name) => {
      const queue = queues.getQueueClient(name);
      return (await queue.exists())
        ? (await queue.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((m) =>
            Buffer.from(m.messageText, 'base64').toString(),
          )
        : [];
    }),
  );
  return { open, outbox: (await deps.outbox.pending(100)).length, poison: poison.flat() };
}

/** Every audit record, oldest first. */
async function wholeAuditLog(): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  for await (const record of host.dependencies.auditSearch.export({})) records.push(record);
  return records.reverse();
}

/**
 * Runs a clean worker until every accepted request is settled and the outbox is empty, then checks
 * each promise: outcomes and state as the serial run, one audit record per request, an unbroken
 * chain, and every audit record published under its own id (repeats allowed, new ids not).
 */
async function assertSettledAsSerialRun(): Promise<void> {
  const worker = startWorker(FaultStep.none);
  const deps = host.dependencies;
  try {
    await eventually(async () => {
      for (const request of accepted) {
        const stored = await deps.queries.changeRequest(request.id);
        if (stored === undefined || stored.status === 'accepted') return undefined;
      }
      return (await deps.outbox.pending(1)).length === 0 ? true : undefined;
    }, 120_000).catch(async (error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(await unsettled())}\n…${worker.output().slice(-4000)}`);
    });
  } finally {
    await stopWorker(worker);
  }

  const statuses = await Promise.all(accepted.map((request) => deps.queries.changeRequest(request.id)));
  figures.requestsLost += statuses.filter((stored) => stored?.status !== 'applied' && stored?.status !== 'rejected').length;
  assert.deepEqual(
    statuses.map((stored, i) => [accepted[i]?.sipAddress, stored?.status === 'applied' ? 'applied' : stored?.reason?.code]),
    accepted.map((request) => [request.sipAddress, request.outcome]),
    'every request settled as the serial run settles it',
  );
  for (let n = 1; n <= ADDRESSES; n++) {
    const held = [1, 2].includes((perAddress.get(n) ?? 0) % 4);
    const holder = await deps.queries.holder(addressOf(n));
    assert.equal(holder?.kind === 'endpoint', held, `the endpoint at ${addressOf(n)}`);
  }

  const log = await wholeAuditLog();
  assert.deepEqual(
    log.map((record) => record.sequence),
    log.map((_, i) => i + 1),
    'one unbroken chain',
  );
  const perRequest = new Map<string, number>();
  for (const record of log)
    if (record.changeRequestId) perRequest.set(record.changeRequestId, (perRequest.get(record.changeRequestId) ?? 0) + 1);
  figures.duplicateEffects += [...perRequest.values()].filter((count) => count > 1).length;
  assert.deepEqual(
    accepted.map((request) => perRequest.get(request.id)),
    accepted.map(() => 1),
    'one audit record per request',
  );

  for (const event of await drainQueue(queues, 'audit-events')) {
    if (publishedEventIds.has(event.id)) figures.repeatedEventDeliveries++;
    publishedEventIds.add(event.id);
  }
  assert.deepEqual(
    [...publishedEventIds].sort(),
    log.map((record) => record.id).sort(),
    'every audit record published, under its own id only',
  );
}
/** Every event id seen on the audit-events queue so far (each check drains it). */
const publishedEventIds = new Set<string>();

// --- the suite ------------------------------------------------------------------------------------

describe('fault injection: a worker killed at every step, Azurite stopped mid-run', () => {
  before(async () => {
    const [blob, queue, table] = await Promise.all([freePort(), freePort(), freePort()]);
    ports = { blob, queue, table };
    azurite = await startAzurite({ location: workspace, ports });
    Object.assign(process.env, RELIABILITY_ENV, { AzureWebJobsStorage: azurite.connectionString });
    const { keys } = useTestKeys();
    host = await startLocalHost({ appRoot: APP_ROOT, port: 0, roles: { http: true, queues: false, timers: false }, log: () => undefined });
    call = apiClient(`${host.url}/api`, keys.all);
    queues = QueueServiceClient.fromConnectionString(azurite.connectionString);
    // Automation enqueues before any worker has started (and created the queues).
    await Promise.all(
      ['endpoint-create', 'endpoint-delete', 'audit-events'].map((name) => queues.getQueueClient(name).createIfNotExists()),
    );
    topology = await aTopology(call, { pools: ADDRESSES });
  });

  after(async () => {
    await host?.stop();
    await azurite?.stop();
    rmSync(workspace, { recursive: true, force: true });
    console.log(`fault-injection figures: ${JSON.stringify(figures)}`);
  });

  it(`kills the worker ${KILLS_PER_STEP} times at each step; no request lost, no effect duplicated, one event id per change`, async (t) => {
    let automation = 0;
    let address = 0;
    for (const step of [FaultStep.beforeCommit, FaultStep.afterCommit, FaultStep.afterPublish]) {
      figures.kills[step] = 0;
      for (let kill = 0; kill < KILLS_PER_STEP; kill++) {
        // Fresh work for this run: four HTTP requests on four addresses, and one straight on the queue.
        await Promise.all([0, 1, 2, 3].map(() => submit((address++ % ADDRESSES) + 1)));
        await enqueueAutomationDelete(++automation);
        const worker = startWorker(step, 1 + (kill % 3));
        const signal = await exitWithin(worker, 30_000);
        if (signal !== 'SIGKILL') {
          await stopWorker(worker);
          assert.fail(`the worker did not reach ${step} (exit: ${signal})\n${worker.output()}`);
        }
        figures.kills[step]++;
      }
    }
    await assertSettledAsSerialRun();
    t.diagnostic(JSON.stringify(figures));
  });

  it('answers 503 with Retry-After while Azurite is down, and loses nothing once it is back', async (t) => {
    const worker = startWorker(FaultStep.none);
    const unavailable: ApiResponse[] = [];
    let submitting = true;
    let n = 0;
    const submitter = (async () => {
      while (submitting) await submit((n++ % ADDRESSES) + 1, (response) => unavailable.push(response));
    })();
    try {
      await eventually(async () => (n >= 10 ? true : undefined));
      await azurite.stop();
      await eventually(async () => (unavailable.length >= 3 ? true : undefined), 30_000);
      const read = await call('GET', `/change-requests/${accepted[0]?.id}`);
      assert.equal(read.status, 503);
      assert.equal(read.headers.get('retry-after'), '5');
      azurite = await startAzurite({ location: workspace, ports });
      const resumedAt = n;
      await eventually(async () => (n >= resumedAt + 10 ? true : undefined), 30_000);
    } finally {
      submitting = false;
      await submitter;
      await stopWorker(worker);
    }

    figures.unavailableAnswers += unavailable.length;
    for (const response of unavailable) {
      assert.equal(response.status, 503);
      assert.equal(response.headers.get('retry-after'), '5');
      assert.equal(response.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      assert.equal(response.body.code, 'service_unavailable');
    }
    await assertSettledAsSerialRun();
    t.diagnostic(JSON.stringify(figures));
  });
});
