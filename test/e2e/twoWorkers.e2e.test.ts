import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QueueServiceClient } from '@azure/storage-queue';
import { AuditAction, type AuditRecord } from '../../shared/domain/audit';
import type { ChangeRequestBody } from '../../shared/domain/changeRequest';
import { azuriteConnectionString, type AzuritePorts } from '../../shared/local/azurite';
import { startLocalHost, type RunningLocalHost } from '../../shared/local/startLocalHost';
import { startCountingProxy, type CountingProxy } from '../bench/countingProxy';
import { startBenchStorage, type BenchStorage } from '../bench/storageChild';
import { aTopology, type Topology } from '../support/apiData';
import { aCreateRequest, aDeleteRequest } from '../support/builders';
import { FaultStep } from '../support/faultInjectionWorker';
import { APP_ROOT, apiClient, drainQueue, eventually, useTestKeys, type ApiCall } from '../support/localHost';

/**
 * Two worker processes (queue and timer triggers, each with its own memory) drain one Azurite's
 * queues at the same time, as two Function App instances do in Azure, while an HTTP-only host
 * admits the requests. Every address's requests and every pool are fought over by both workers, so
 * a worker that decided on what it remembered rather than on what the other one committed (a
 * cache trusted past the head row's ETag) would apply a create on a pool the other just filled,
 * or reject one on a pool the other just emptied. The audit log's sequence is the serial order the
 * service chose: replaying the requests in that order through a reference model must give every
 * request's outcome and the final directory, with one audit record and one event per request.
 */
const POOLS = 6;
const ADDRESSES_PER_POOL = 3;
/**
 * Each address's requests, in the order they are accepted: its home pool (h) and the next one (n).
 * Creates on a pool that another address holds are rejected pool_has_endpoint, a create of an
 * address already held sip_address_held_by_endpoint, a delete of a free one endpoint_not_found: which
 * of those each request meets depends on how the other addresses' requests fell between its own.
 */
const TURNS: ReadonlyArray<{ operation: 'create'; pool: 'h' | 'n' } | { operation: 'delete' }> = [
  { operation: 'create', pool: 'h' },
  { operation: 'delete' },
  { operation: 'create', pool: 'n' },
  { operation: 'create', pool: 'h' },
  { operation: 'delete' },
  { operation: 'create', pool: 'h' },
  { operation: 'delete' },
  { operation: 'create', pool: 'n' },
];
/** The turns admitted before the workers start (a full queue for both at once); the rest arrive while they drain it. */
const TURNS_BEFORE_WORKERS = 4;
const WORKER = path.join(APP_ROOT, 'dist', 'test', 'support', 'faultInjectionWorker.js');

let ports: AzuritePorts;
let azurite: BenchStorage;
let host: RunningLocalHost;
let call: ApiCall;
let auditorKey: string;
let queues: QueueServiceClient;
let topology: Topology;

// --- the workload ---------------------------------------------------------------------------------

/** One accepted request: which address's turn it was, and what it asked. */
interface Submitted {
  id: string;
  turn: number;
  body: ChangeRequestBody;
}

/** The ports of a connection string's endpoints. */
function portsOf(connectionString: string): AzuritePorts {
  const port = (service: string) => Number(new RegExp(`${service}Endpoint=http://[^:]+:(\\d+)`).exec(connectionString)?.[1]);
  return { blob: port('Blob'), queue: port('Queue'), table: port('Table') };
}

const addressOf = (a: number) => topology.address(`tw${a}`);
const homePoolOf = (a: number) => topology.pool(a % POOLS);
const nextPoolOf = (a: number) => topology.pool((a + 1) % POOLS);

function requestFor(a: number, turn: number): ChangeRequestBody {
  const step = TURNS[turn];
  if (step === undefined) throw new Error(`no turn ${turn}`);
  if (step.operation === 'delete') return aDeleteRequest({ sipAddress: addressOf(a) });
  return aCreateRequest({ sipAddress: addressOf(a), poolFqdn: step.pool === 'h' ? homePoolOf(a) : nextPoolOf(a) });
}

/**
 * Submits turns [from, to) of every address: the addresses side by side, each address's requests
 * one after another (the next only once the last is accepted), so each address's order is known.
 */
async function submitTurns(from: number, to: number, accepted: Submitted[]): Promise<void> {
  const addresses = Array.from({ length: POOLS * ADDRESSES_PER_POOL }, (_, a) => a);
  await Promise.all(
    addresses.map(async (a) => {
      for (let turn = from; turn < to; turn++) {
        const body = requestFor(a, turn);
        const response = await call('POST', '/change-requests', body);
        assert.equal(response.status, 202, JSON.stringify(response.body));
        accepted.push({ id: response.body.id, turn, body });
      }
    }),
  );
}

// --- the reference model: the same rules, one request at a time ------------------------------------

/** What a request came to: `applied`, or its rejection code. */
type Outcome = string;

/** The directory as the endpoint rules see it for this workload: who holds each address, whom each pool's admin slot. */
class SerialDirectory {
  readonly holders = new Map<string, string>();
  readonly admins = new Map<string, string>();

  settle(request: ChangeRequestBody): Outcome {
    const { sipAddress } = request;
    if (request.operation === 'create') {
      if (this.holders.has(sipAddress)) return 'sip_address_held_by_endpoint';
      if (this.admins.has(request.poolFqdn)) return 'pool_has_endpoint';
      this.holders.set(sipAddress, request.poolFqdn);
      this.admins.set(request.poolFqdn, sipAddress);
      return 'applied';
    }
    const pool = this.holders.get(sipAddress);
    if (pool === undefined) return 'endpoint_not_found';
    this.holders.delete(sipAddress);
    if (this.admins.get(pool) === sipAddress) this.admins.delete(pool);
    return 'applied';
  }
}

// --- the worker processes -------------------------------------------------------------------------

interface Worker {
  child: ChildProcess;
  exited: Promise<NodeJS.Signals | number | null>;
  output: () => string;
  /** Counts this worker's storage requests (its own proxy in front of Azurite). */
  proxy: CountingProxy;
}

/** A worker process (the fault-injection suite's worker, with no fault) reaching Azurite through its own counting proxy. */
async function startWorker(): Promise<Worker> {
  const proxy = await startCountingProxy({ tablePort: ports.table, queuePort: ports.queue });
  const connection = azuriteConnectionString({ table: proxy.tablePort, queue: proxy.queuePort, blob: ports.blob });
  const child = spawn(process.execPath, [WORKER], {
    env: { ...process.env, AzureWebJobsStorage: connection, PCHAT_FAULT_WORKER: '1', FAULT_STEP: FaultStep.none },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  return { child, exited, output: () => output, proxy };
}

async function stopWorker(worker: Worker): Promise<void> {
  if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGTERM');
  await worker.exited;
  await worker.proxy.close();
}

const commitsOf = (worker: Worker) => worker.proxy.counts()['table POST batch'] ?? 0;

/**
 * Samples both workers' table transactions every 100 ms: how many each sent, and in how many
 * samples both sent some (both deciding and committing at once, the case the ETag guard is for).
 */
function watchCommits(workers: [Worker, Worker]): { stop(): { perWorker: number[]; samplesWithBoth: number } } {
  let last = [0, 0];
  let samplesWithBoth = 0;
  const sample = () => {
    const now = workers.map(commitsOf);
    if (now.every((count, i) => count > (last[i] ?? 0))) samplesWithBoth++;
    last = now;
  };
  const timer = setInterval(sample, 100);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return { perWorker: last, samplesWithBoth };
    },
  };
}

// --- reading the outcome --------------------------------------------------------------------------

/** The whole audit log through the API's ndjson export, in sequence order. */
async function wholeAuditLog(): Promise<AuditRecord[]> {
  const response = await fetch(`${host.url}/api/audit?format=ndjson`, { headers: { authorization: `Bearer ${auditorKey}` } });
  assert.equal(response.status, 200);
  const lines = (await response.text()).split('\n').filter((line) => line.trim() !== '');
  return lines.map((line) => JSON.parse(line) as AuditRecord).sort((a, b) => a.sequence - b.sequence);
}

/**
 * A probe for `eventually`: every submitted request once all have left `accepted` and the outbox is
 * empty, else undefined. A request once settled stays settled, so each look starts where the last
 * one stopped, and the probe adds little to the load on storage the workers share.
 */
function settledRequests(accepted: Submitted[]): () => Promise<Map<string, Record<string, any>> | undefined> {
  const settled = new Map<string, Record<string, any>>();
  return async () => {
    for (const request of accepted.slice(settled.size)) {
      const stored = await host.dependencies.queries.changeRequest(request.id);
      if (stored === undefined || stored.status === 'accepted') return undefined;
      settled.set(request.id, stored);
    }
    return (await host.dependencies.outbox.pending(1)).length === 0 ? settled : undefined;
  };
}

const outcomeOf = (stored: Record<string, any> | undefined): Outcome | undefined =>
  stored?.status === 'applied' ? 'applied' : (stored?.reason?.code ?? stored?.status);

/** The audit action a request's outcome is recorded under. */
function actionOf(request: ChangeRequestBody, outcome: Outcome): AuditAction {
  if (request.operation === 'create') return outcome === 'applied' ? AuditAction.endpointCreated : AuditAction.endpointCreateRejected;
  return outcome === 'applied' ? AuditAction.endpointDeleted : AuditAction.endpointDeleteRejected;
}

/** What the run left: the requests, their settled records, and how busy each worker was. */
interface Run {
  accepted: Submitted[];
  settled: Map<string, Record<string, any>>;
  activity: { perWorker: number[]; samplesWithBoth: number };
}

/**
 * Admits the first turns with no worker running, starts both workers on the full queues, admits the
 * rest while they drain them, and waits until every request is settled and every event is out.
 */
async function runWorkload(): Promise<Run> {
  const accepted: Submitted[] = [];
  await submitTurns(0, TURNS_BEFORE_WORKERS, accepted);
  const workers: [Worker, Worker] = [await startWorker(), await startWorker()];
  const watch = watchCommits(workers);
  let settled: Run['settled'];
  let activity: Run['activity'];
  try {
    await submitTurns(TURNS_BEFORE_WORKERS, TURNS.length, accepted);
    settled = await eventually(settledRequests(accepted), 180_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${workers.map((w, i) => `worker ${i + 1}: …${w.output().slice(-3000)}`).join('\n')}`);
    });
  } finally {
    activity = watch.stop();
    await Promise.all(workers.map(stopWorker));
  }
  return { accepted, settled, activity };
}

/** The workload's audit records, in sequence order, having checked there is exactly one per request and that it names it. */
function oneRecordPerRequest(log: AuditRecord[], { accepted, settled }: Run): AuditRecord[] {
  const ids = new Set(accepted.map((request) => request.id));
  const records = log.filter((record) => record.changeRequestId !== null && ids.has(record.changeRequestId));
  const perRequest = new Map<string | null, number>();
  for (const { changeRequestId } of records) perRequest.set(changeRequestId, (perRequest.get(changeRequestId) ?? 0) + 1);
  assert.deepEqual(
    accepted.map((request) => [request.id, perRequest.get(request.id)]),
    accepted.map((request) => [request.id, 1]),
    'one audit record per request',
  );
  assert.deepEqual(
    records.map((record) => [record.changeRequestId, record.sequence]),
    records.map((record) => [record.changeRequestId, settled.get(record.changeRequestId as string)?.auditSequence]),
    'each request names its audit record',
  );
  return records;
}

/** Per address, the service settles requests in the order it accepted them. */
function assertAcceptanceOrderPerAddress(records: AuditRecord[], accepted: Submitted[]): void {
  const sequenceOf = new Map(records.map((record) => [record.changeRequestId, record.sequence]));
  for (let a = 0; a < POOLS * ADDRESSES_PER_POOL; a++) {
    const turns = accepted.filter((request) => request.body.sipAddress === addressOf(a)).sort((x, y) => x.turn - y.turn);
    const sequences = turns.map((request) => sequenceOf.get(request.id) ?? 0);
    assert.deepEqual(
      sequences,
      [...sequences].sort((x, y) => x - y),
      `${addressOf(a)} settled in acceptance order`,
    );
  }
}

/**
 * The serial run: the same requests, one at a time, in the order of their audit records, through the
 * model. Each request's audit record and final status must say what the model says.
 */
function assertSerialOutcomes(
  records: AuditRecord[],
  { accepted, settled }: Run,
): { model: SerialDirectory; outcomes: Record<string, number> } {
  const byId = new Map(accepted.map((request) => [request.id, request.body]));
  const model = new SerialDirectory();
  const outcomes: Record<string, number> = {};
  const replay = records.map((record) => {
    const request = byId.get(record.changeRequestId as string) as ChangeRequestBody;
    const serial = model.settle(request);
    outcomes[serial] = (outcomes[serial] ?? 0) + 1;
    return {
      sequence: record.sequence,
      request: `${request.operation} ${request.sipAddress}${request.operation === 'create' ? ` on ${request.poolFqdn}` : ''}`,
      serial: [serial, actionOf(request, serial), serial],
      actual: [
        record.outcome.status === 'applied' ? 'applied' : record.outcome.code,
        record.action,
        outcomeOf(settled.get(record.changeRequestId as string)),
      ],
    };
  });
  const firstDifference = replay.find((step) => step.actual.join() !== step.serial.join());
  assert.deepEqual(
    replay.map((step) => [step.sequence, step.request, ...step.actual]),
    replay.map((step) => [step.sequence, step.request, ...step.serial]),
    `every request settled as the serial run settles it (audit outcome, action, status); first difference: ${JSON.stringify(firstDifference)}`,
  );
  return { model, outcomes };
}

/** The final directory is the serial run's: the endpoints, and each pool's admin endpoint. */
async function assertSerialDirectory(model: SerialDirectory): Promise<void> {
  const listed = await call('GET', `/endpoints?sipAddress=${encodeURIComponent(`sip:tw*@${topology.domain}`)}&limit=1000`);
  assert.equal(listed.status, 200);
  assert.deepEqual(
    listed.body.items.map((endpoint: any) => [endpoint.sipAddress, endpoint.poolFqdn]).sort(),
    [...model.holders].sort(),
    'the endpoints are the serial run’s',
  );
  const { body: directory } = await call('GET', '/topology');
  assert.deepEqual(
    directory.pools
      .filter((pool: any) => topology.pools.includes(pool.fqdn))
      .map((pool: any) => [pool.fqdn, pool.adminEndpointSipAddress])
      .sort(),
    topology.pools.map((pool) => [pool, model.admins.get(pool) ?? null]).sort(),
    'each pool’s admin endpoint is the serial run’s',
  );
}

/** The outbox is empty (the run waited for it), and each record was published once, under its own id. */
async function assertPublishedOnce(records: AuditRecord[]): Promise<void> {
  const published = (await drainQueue(queues, 'audit-events')).filter((event) => event.subject.startsWith('sip:tw'));
  assert.deepEqual(
    published.map((event) => event.id).sort(),
    records.map((record) => record.id).sort(),
    'every audit record published once, under its own id',
  );
}

// --- the suite ------------------------------------------------------------------------------------

describe('two worker processes on one Azurite', () => {
  before(async () => {
    // Azurite in its own process (in memory), so storage's work is not done on this process's loop.
    azurite = await startBenchStorage();
    ports = portsOf(azurite.direct);
    process.env.AzureWebJobsStorage = azurite.direct;
    const { keys } = useTestKeys();
    auditorKey = keys.auditor;
    host = await startLocalHost({ appRoot: APP_ROOT, port: 0, roles: { http: true, queues: false, timers: false }, log: () => undefined });
    call = apiClient(`${host.url}/api`, keys.all);
    queues = QueueServiceClient.fromConnectionString(azurite.direct);
    topology = await aTopology(call, { pools: POOLS });
  });

  after(async () => {
    await host?.stop();
    await azurite?.stop();
  });

  it('settles every request as a serial run in audit order does: same outcomes, same directory, one audit record and one event each', async (t) => {
    const run = await runWorkload();
    t.diagnostic(`requests ${run.accepted.length}; table transactions per worker ${JSON.stringify(run.activity)}`);
    // Without this the test could pass with one worker doing all the work: both must have been committing at once.
    assert.ok(
      run.activity.perWorker.every((count) => count > 0) && run.activity.samplesWithBoth > 0,
      `both workers committed, at the same time: ${JSON.stringify(run.activity)}`,
    );

    const log = await wholeAuditLog();
    assert.deepEqual(
      log.map((record) => record.sequence),
      log.map((_, i) => i + 1),
      'audit sequences 1..n, no gap, no repeat',
    );
    const records = oneRecordPerRequest(log, run);
    assertAcceptanceOrderPerAddress(records, run.accepted);
    const { model, outcomes } = assertSerialOutcomes(records, run);
    t.diagnostic(`outcomes ${JSON.stringify(outcomes)}`);
    await assertSerialDirectory(model);

    const verified = await apiClient(`${host.url}/api`, auditorKey)('GET', '/audit/verify?full=true');
    assert.deepEqual([verified.status, verified.body.intact, verified.body.firstBreak], [200, true, null], JSON.stringify(verified.body));
    await assertPublishedOnce(records);
  });
});
