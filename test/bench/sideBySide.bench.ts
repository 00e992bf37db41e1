import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { parseSettings } from '../../shared/settings';
import { startLocalHost, type RunningLocalHost } from '../../shared/local/startLocalHost';
import { APP_ROOT, useTestKeys } from '../support/localHost';
import { AdmissionLoad, BareAdmission, compareAdmissionBatches } from './admissionFloor';
import { appliedCreateIn, changesPerTransaction, Floor, parseBatch, type FloorTemplate } from './floor';
import { startBenchStorage, type BenchStorage } from './storageChild';

/**
 * `npm run bench` (issue 13): the service and the floor (floor.ts) side by side in one run,
 * alternating, BENCH_ROUNDS rounds (default 3), BENCH_CHANGES creates each (default 100):
 *
 *   (a) end to end: service: 100 concurrent POST /change-requests over loopback HTTP (auth on,
 *       the rate limit out of the way) until the create queue is empty (every message applied and
 *       deleted; each request's status is then checked to be `applied`, untimed); floor: enqueue
 *       100 changes (concurrently), then apply them.
 *   (b) the apply step alone, the queue pre-filled: service: the requests are admitted by an
 *       HTTP-only host, which stops; then a worker-only host (LocalFunctionsHost roles: queues and
 *       timers) starts, timed from when it is up until the queue is empty; floor: enqueue untimed, apply timed.
 *
 * Storage requests per applied change come from the counting proxy (storageChild.ts), which both
 * go through; it counts everything in the timed window, so the service's timers (outbox publisher,
 * re-driver) are in its figure. Blob requests (the audit witness) are not proxied or counted.
 * CPU ms per applied change is process.cpuUsage of this process, which runs the service host
 * in-process (as the e2e tests do) or the floor, and the load generator; Azurite and the proxy run
 * in a child process.
 *
 *   (c) one at a time: service: each create POSTed and timed until its request row reads `applied`
 *       (polled straight from Azurite every 5 ms; the host's queue poller, backing off while the
 *       queue is empty, polls at once when admission in the same process sends to it, as the local
 *       host does for any send of its own; see storageQueueTriggers.ts); floor: send, receive, one
 *       transaction, delete, timed (its rows to delete put in place before, untimed).
 *
 *   (d) POST admission at concurrency 1 and 16, BENCH_ADMISSIONS requests each (default 200) after
 *       BENCH_ADMISSION_WARMUP untimed ones (default 20), each for a new address: service: POST
 *       /api/change-requests over loopback HTTP to an HTTP-only host (auth on, the rate limit out of
 *       the way), in a partition and create queue of its own, so nothing it admits reaches the other
 *       sections; bare: the same load on admissionFloor.ts's node:http handler, with its own partition
 *       and queue. Latency is the caller's, from send to the answer's end; which side goes first
 *       alternates by round. CPU and storage requests are counted as above, per admission.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CHANGES = Number(process.env.BENCH_CHANGES ?? 100);
/** How many creates (c) sends one at a time, per round. */
const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 20);
const FLOOR_TABLE = 'benchfloor';
const FLOOR_QUEUE = 'bench-floor-create';
const ADMISSIONS = Number(process.env.BENCH_ADMISSIONS ?? 200);
const ADMISSION_WARMUP = Number(process.env.BENCH_ADMISSION_WARMUP ?? 20);
const ADMISSION_CONCURRENCY = [1, 16];
/** Which sections to run, for looking into one: BENCH_SECTIONS=bd runs (b) and (d). The floor's template comes from (b)'s first run, so that runs anyway. */
const SECTIONS = process.env.BENCH_SECTIONS ?? 'abcd';
/** Each side's partition and queue for (d); the names are as long as each other, so both sides' rows are the same size. */
const ADMISSION_STORE = {
  service: { partition: 'admission-svc', queue: 'bench-admission-svc' },
  bare: { partition: 'admission-bar', queue: 'bench-admission-bar' },
};

interface Sample {
  rate: number;
  requests: number;
  cpuMs: number;
  /** The storage child's CPU (Azurite and the proxy), per applied change. */
  storageCpuMs: number;
  counts: Record<string, number>;
  busyMs: Record<string, number>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const quiet = () => undefined;

/** Runs `work` with storage's counters reset, and its figures per unit of work (`per`: changes applied, admissions). */
async function measure<T>(storage: BenchStorage, per: number, work: () => Promise<T>): Promise<Sample & { result: T }> {
  await storage.reset();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await work();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const [counts, usage] = [await storage.counts(), await storage.usage()];
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return {
    rate: per / seconds,
    requests: total / per,
    cpuMs: (cpu.user + cpu.system) / 1000 / per,
    storageCpuMs: usage.cpuMs / per,
    counts,
    busyMs: usage.busyMs,
    result,
  };
}

/** Until the queue holds no message, visible or leased (Azurite counts both). */
async function untilEmpty(queue: QueueClient, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await queue.getProperties()).approximateMessagesCount !== 0) {
    if (Date.now() > deadline) throw new Error(`queue ${queue.name} not empty at the deadline`);
    await sleep(20);
  }
}

/** The users of one run's creates: all the same width, so the floor's substitutions keep sizes. */
const usersOf = (tag: string) => Array.from({ length: CHANGES }, (_, i) => `${tag}${String(i).padStart(3, '0')}`);

class Service {
  private readonly authorization: string;
  constructor(
    private readonly storage: BenchStorage,
    private readonly queue: QueueClient,
    private readonly table: TableClient,
    private readonly partition: string,
    key: string,
  ) {
    this.authorization = `Bearer ${key}`;
  }

  start(roles: { http: boolean; queues: boolean }, loadDemoTopology = true): Promise<RunningLocalHost> {
    return startLocalHost({ appRoot: APP_ROOT, port: 0, roles, log: quiet, loadDemoTopology });
  }

  /**
   * (d)'s host: HTTP only, in its own partition and create queue. The function files read the queue
   * names once, when the first host loads them, so this must not be the process's first host (it
   * never is: each round starts with (b)); the host's own settings are read at its start, then put back.
   */
  async startAdmissions(): Promise<RunningLocalHost> {
    const saved = { DIRECTORY_PARTITION: process.env.DIRECTORY_PARTITION, ENDPOINT_CREATE_QUEUE: process.env.ENDPOINT_CREATE_QUEUE };
    process.env.DIRECTORY_PARTITION = ADMISSION_STORE.service.partition;
    process.env.ENDPOINT_CREATE_QUEUE = ADMISSION_STORE.service.queue;
    try {
      return await this.start({ http: true, queues: false }, false);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  }

  private call(host: RunningLocalHost, method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${host.url}/api${path}`, {
      method,
      headers: { authorization: this.authorization, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  }

  async pools(host: RunningLocalHost, users: string[]): Promise<void> {
    for (const user of users) {
      const response = await this.call(host, 'PUT', `/topology/pools/${user}.contoso.com`);
      if (!response.ok) throw new Error(`PUT pool: ${response.status} ${await response.text()}`);
    }
  }

  /** Submits one create per user, concurrently; resolves with the request ids. */
  async submit(host: RunningLocalHost, users: string[]): Promise<string[]> {
    return Promise.all(
      users.map(async (user) => {
        const response = await this.call(host, 'POST', '/change-requests', {
          operation: 'create',
          // The pool's own default endpoint is sip:<user>@contoso.com; the create is another address on it.
          sipAddress: `sip:e${user}@contoso.com`,
          poolFqdn: `${user}.contoso.com`,
        });
        await response.arrayBuffer();
        if (response.status !== 202) throw new Error(`POST: ${response.status}`);
        return (response.headers.get('location') ?? '').split('/').pop() as string;
      }),
    );
  }

  async checkApplied(ids: string[]): Promise<void> {
    for (const id of ids) {
      const row = await this.table.getEntity<{ status: string }>(this.partition, `cr|${id}`);
      if (row.status !== 'applied') throw new Error(`request ${id} is ${row.status}, not applied: ${JSON.stringify(row).slice(0, 1500)}`);
    }
  }

  async endToEnd(tag: string): Promise<Sample> {
    const users = usersOf(tag);
    const host = await this.start({ http: true, queues: true });
    try {
      await this.pools(host, users);
      await untilEmpty(this.queue);
      let ids: string[] = [];
      const sample = await measure(this.storage, CHANGES, async () => {
        ids = await this.submit(host, users);
        await untilEmpty(this.queue);
      });
      await this.checkApplied(ids);
      return sample;
    } finally {
      await host.stop();
    }
  }

  /** (c): one create at a time, each timed from its POST until its request is applied (read straight from Azurite every 5 ms). */
  async oneAtATime(tag: string): Promise<number[]> {
    const users = usersOf(tag).slice(0, SEQUENTIAL);
    const host = await this.start({ http: true, queues: true });
    try {
      await this.pools(host, users);
      await untilEmpty(this.queue);
      const latencies: number[] = [];
      for (const user of users) {
        const t0 = performance.now();
        const [id] = await this.submit(host, [user]);
        for (;;) {
          const row = await this.table.getEntity<{ status: string }>(this.partition, `cr|${id}`);
          if (row.status === 'applied') break;
          if (row.status !== 'accepted') throw new Error(`request ${id} is ${row.status}`);
          await sleep(5);
        }
        latencies.push(performance.now() - t0);
      }
      return latencies;
    } finally {
      await host.stop();
    }
  }

  /** The apply step alone; with `capture`, also what the floor replays (the first run's commit of one create). */
  async applyAlone(tag: string, capture: boolean): Promise<{ sample: Sample; template?: FloorTemplate }> {
    const users = usersOf(tag);
    const front = await this.start({ http: true, queues: false });
    let ids: string[];
    try {
      await this.pools(front, users);
      ids = await this.submit(front, users);
    } finally {
      await front.stop();
    }
    const before = capture ? await this.snapshot() : undefined;
    const peeked = capture ? (await this.queue.peekMessages({ numberOfMessages: 1 })).peekedMessageItems[0] : undefined;
    if (capture) await this.storage.record(60);
    const worker = await this.start({ http: false, queues: true });
    try {
      const sample = await measure(this.storage, CHANGES, () => untilEmpty(this.queue));
      await this.checkApplied(ids);
      if (!before || !peeked) return { sample };
      const message = { text: peeked.messageText, ...this.changeOf(peeked.messageText, ids, users) };
      return { sample, template: await this.template(before, message) };
    } finally {
      await worker.stop();
    }
  }

  private changeOf(text: string, ids: string[], users: string[]): { id: string; user: string } {
    const decoded = Buffer.from(text, 'base64').toString('utf8');
    const index = ids.findIndex((id) => decoded.includes(id));
    if (index < 0) throw new Error('the peeked message names no request of this run');
    return { id: ids[index] as string, user: users[index] as string };
  }

  private async snapshot(): Promise<Map<string, string>> {
    const rows = new Map<string, string>();
    const pages = this.table.listEntities<Record<string, unknown>>({
      queryOptions: { filter: `PartitionKey eq '${this.partition}'` },
      disableTypeConversion: true,
    });
    for await (const row of pages) rows.set(String(row.rowKey), JSON.stringify(row));
    return rows;
  }

  /**
   * The first recorded commit that applied a create, cut down to that one change's actions (a commit
   * may carry several changes and earlier events' outbox deletes; see appliedCreateIn), and the rows
   * it deleted as they stood before it.
   */
  private async template(before: Map<string, string>, message: FloorTemplate['message']): Promise<FloorTemplate> {
    for (const { body } of await this.storage.recorded()) {
      const change = appliedCreateIn(parseBatch(body));
      if (!change) continue;
      const deletedRows: Record<string, string> = {};
      for (const action of change.actions.filter((a) => a.method === 'DELETE')) {
        const row = before.get(action.rowKey);
        if (!row) throw new Error(`the row ${action.rowKey} the commit deletes was not there before it`);
        deletedRows[action.rowKey] = row;
      }
      return {
        id: change.id,
        // The run's tag: the address is e<tag>, its pool <tag>.contoso.com (the commit rewrites the pool row too).
        user: change.user,
        sequence: change.sequence,
        actions: change.actions,
        deletedRows,
        head: before.get('head') as string,
        message,
      };
    }
    throw new Error('no recorded commit applied a create');
  }
}

/** The floor's commit beside the service's: actions and the bytes of their bodies (the rows), from the proxy's recordings. */
let fidelity = '';

async function floorRun(template: FloorTemplate, storage: BenchStorage, partition: string, grouped: boolean, endToEnd: boolean) {
  const floor = Floor.create(template, storage.proxied, FLOOR_TABLE, FLOOR_QUEUE, partition);
  await floor.setUp();
  const changes = floor.changes(CHANGES, partition.slice(-4));
  if (!endToEnd) {
    await Promise.all(changes.map((change) => floor.enqueue(change)));
    if (!fidelity && !grouped) await storage.record(1);
    const sample = await measure(storage, CHANGES, () => floor.apply(CHANGES, grouped));
    if (!fidelity && !grouped) {
      const [recorded] = await storage.recorded();
      const bytes = (actions: Array<{ body: string }>) => actions.reduce((sum, a) => sum + Buffer.byteLength(a.body), 0);
      const mine = parseBatch(recorded?.body ?? '');
      fidelity = `service commit ${template.actions.length} actions, ${bytes(template.actions)} body bytes; floor commit ${mine.length} actions, ${bytes(mine)} body bytes`;
    }
    return sample;
  }
  return measure(storage, CHANGES, async () => {
    await Promise.all(changes.map((change) => floor.enqueue(change)));
    await floor.apply(CHANGES, grouped);
  });
}

/** (c) for the floor: the pending rows put in place untimed, then each change timed from its send through receive, commit and delete. */
async function floorOneAtATime(template: FloorTemplate, storage: BenchStorage, partition: string): Promise<number[]> {
  const floor = Floor.create(template, storage.proxied, FLOOR_TABLE, FLOOR_QUEUE, partition);
  await floor.setUp();
  const latencies: number[] = [];
  for (const change of floor.changes(SEQUENTIAL, partition.slice(-4))) {
    await floor.prepare(change);
    const t0 = performance.now();
    await floor.send(change);
    await floor.apply(1, false);
    latencies.push(performance.now() - t0);
  }
  return latencies;
}

interface AdmissionSample extends Sample {
  p50: number;
  p99: number;
}

/** Bodies of creates, each for a new address; `tag` makes them unique and as long as the other side's. */
const admissionBodies = (tag: string, count: number) =>
  Array.from({ length: count }, (_, i) => {
    const user = `${tag}${String(i).padStart(4, '0')}`;
    return JSON.stringify({ operation: 'create', sipAddress: `sip:e${user}@contoso.com`, poolFqdn: `${user}.contoso.com` });
  });

/** (d) for one side at one concurrency: a warm-up on the same connections, then ADMISSIONS timed and counted. */
async function measureAdmissions(storage: BenchStorage, url: string, authorization: string, tag: string, concurrency: number) {
  const load = new AdmissionLoad(`${url}/api/change-requests`, authorization, concurrency);
  try {
    await load.run(admissionBodies(`${tag}w`, ADMISSION_WARMUP));
    const { result: latencies, ...sample } = await measure(storage, ADMISSIONS, () => load.run(admissionBodies(`${tag}t`, ADMISSIONS)));
    return { ...sample, p50: percentile(latencies, 50), p99: percentile(latencies, 99) } satisfies AdmissionSample;
  } finally {
    load.close();
  }
}

/** One admission's transaction as the proxy recorded it (untimed). */
async function recordAdmission(storage: BenchStorage, url: string, authorization: string, tag: string) {
  const load = new AdmissionLoad(`${url}/api/change-requests`, authorization, 1);
  try {
    await storage.record(1);
    await load.run(admissionBodies(`${tag}r`, 1));
    const [recorded] = await storage.recorded();
    return parseBatch(recorded?.body ?? '');
  } finally {
    load.close();
  }
}

/** The admission figures: by `<side> c<concurrency>`, one sample per round. */
const admissions: Record<string, AdmissionSample[]> = {};
/** The service's admission transaction beside the bare handler's. */
let admissionFidelity = '';

/** (d) for one round: both sides at each concurrency, alternating, the side going first alternating by round. */
async function admissionRound(service: Service, storage: BenchStorage, bare: BareAdmission, authorization: string, round: number) {
  const host = await service.startAdmissions();
  const bareUrl = await bare.start();
  const urls = { service: host.url, bare: bareUrl };
  const sides = round % 2 === 0 ? (['service', 'bare'] as const) : (['bare', 'service'] as const);
  const queues = Object.fromEntries(
    Object.entries(ADMISSION_STORE).map(([side, { queue }]) => [side, new QueueClient(storage.direct, queue)]),
  ) as Record<'service' | 'bare', QueueClient>;
  try {
    for (const concurrency of ADMISSION_CONCURRENCY) {
      for (const side of sides) {
        const tag = `${side[0]}${round}c${concurrency}`;
        (admissions[`${side} c${concurrency}`] ??= []).push(await measureAdmissions(storage, urls[side], authorization, tag, concurrency));
        // Untimed: the messages are nobody's work, and a long queue is not what a send should pay for.
        await queues[side].clearMessages();
      }
    }
    if (!admissionFidelity) {
      const [serviceBatch, bareBatch] = [
        await recordAdmission(storage, urls.service, authorization, `s${round}c0`),
        await recordAdmission(storage, urls.bare, authorization, `b${round}c0`),
      ];
      admissionFidelity = compareAdmissionBatches(serviceBatch, bareBatch);
    }
  } finally {
    await Promise.all([host.stop(), bare.stop()]);
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const range = (values: number[], digits = 1) =>
  `${median(values).toFixed(digits)} [${Math.min(...values).toFixed(digits)}-${Math.max(...values).toFixed(digits)}]`;

/** The last round's requests per change by kind, each with the ms it spent in the storage child per change. */
function perKind(samples: Array<{ counts: Record<string, number>; busyMs: Record<string, number> }>, per = CHANGES): string {
  const last = samples[samples.length - 1];
  if (!last) return '';
  return Object.entries(last.counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, n]) => `${kind} ${(n / per).toFixed(2)} (${((last.busyMs[kind] ?? 0) / per).toFixed(1)} ms)`)
    .join(', ');
}

/** (d)'s rows of the table: the service beside the bare handler, per concurrency. */
function printAdmissions(): void {
  for (const concurrency of ADMISSION_CONCURRENCY) {
    const s = admissions[`service c${concurrency}`] ?? [];
    const b = admissions[`bare c${concurrency}`] ?? [];
    const title = `(d) POST admission, concurrency ${concurrency}`;
    const row = (figure: string, pick: (x: AdmissionSample) => number, digits: number, ratio: boolean) => {
      const [sv, bv] = [s.map(pick), b.map(pick)];
      const r = ratio ? `${(median(sv) / median(bv)).toFixed(2)}x` : '';
      console.log(`| ${title}: ${figure} | ${range(sv, digits)} | ${range(bv, digits)} | | ${r} | |`);
    };
    row(`p50 ms, median [min-max] of ${ROUNDS} rounds x ${ADMISSIONS}`, (x) => x.p50, 2, true);
    row('p99 ms, median [min-max]', (x) => x.p99, 2, true);
    row('admissions/s', (x) => x.rate, 1, true);
    row('storage requests / admission', (x) => x.requests, 2, false);
    row('CPU ms / admission', (x) => x.cpuMs, 2, true);
    row('storage child CPU ms / admission', (x) => x.storageCpuMs, 2, true);
  }
}

async function main(): Promise<void> {
  const storage = await startBenchStorage();
  process.env.AzureWebJobsStorage = storage.proxied;
  process.env.SUBMISSION_RATE_LIMIT = '1000000';
  const { keys, principals } = useTestKeys();
  const settings = parseSettings();
  const queue = new QueueClient(storage.direct, settings.queues.endpointCreate);
  const table = TableClient.fromConnectionString(storage.direct, settings.table, { allowInsecureConnection: true });
  const service = new Service(storage, queue, table, settings.partition, keys.all);
  const bare = new BareAdmission({
    connectionString: storage.proxied,
    table: settings.table,
    ...ADMISSION_STORE.bare,
    key: keys.all,
    principal: principals.all,
  });
  const runs: Record<string, Sample[]> = {};
  const add = (name: string, sample: Sample) => (runs[name] ??= []).push(sample);
  let template: FloorTemplate | undefined;
  const oneAtATime = { service: [] as number[], floor: [] as number[], service95: [] as number[], floor95: [] as number[] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      if (SECTIONS.includes('b') || !template) {
        const applied = await service.applyAlone(`s${round}b`, template === undefined);
        template ??= applied.template;
        if (!template) throw new Error('no template captured');
        if (SECTIONS.includes('b')) {
          add('b service', applied.sample);
          add('b floor', await floorRun(template, storage, `floor${round}b1`, false, false));
          add('b floor grouped', await floorRun(template, storage, `floor${round}bn`, true, false));
        }
      }
      if (SECTIONS.includes('a')) {
        add('a service', await service.endToEnd(`s${round}a`));
        add('a floor', await floorRun(template, storage, `floor${round}a1`, false, true));
        add('a floor grouped', await floorRun(template, storage, `floor${round}an`, true, true));
      }
      if (SECTIONS.includes('c')) {
        const serviceOne = await service.oneAtATime(`s${round}c`);
        const floorOne = await floorOneAtATime(template, storage, `floor${round}c1`);
        oneAtATime.service.push(percentile(serviceOne, 50));
        oneAtATime.floor.push(percentile(floorOne, 50));
        oneAtATime.service95.push(percentile(serviceOne, 95));
        oneAtATime.floor95.push(percentile(floorOne, 95));
      }
      if (SECTIONS.includes('d')) await admissionRound(service, storage, bare, `Bearer ${keys.all}`, round);
      console.error(`round ${round + 1}/${ROUNDS} done`);
    }
  } finally {
    await storage.stop();
  }
  if (!template) return;
  console.log(
    `side-by-side bench: Node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB; ` +
      `${ROUNDS} rounds x ${CHANGES} creates; Azurite in memory in a child process, behind the counting proxy`,
  );
  console.log(
    `floor commit: ${template.actions.length} actions per change (${template.actions.length - 1} + the head); grouped: ${changesPerTransaction(template)} changes per transaction`,
  );
  console.log(fidelity);
  console.log(admissionFidelity);
  console.log('');
  console.log('| figure | service | floor (1/tx) | floor (grouped) | service/floor | service/grouped |');
  console.log('|---|---|---|---|---|---|');
  for (const step of ['a', 'b'].filter((section) => SECTIONS.includes(section))) {
    const [s, f, g] = ['service', 'floor', 'floor grouped'].map((name) => runs[`${step} ${name}`] ?? []) as [Sample[], Sample[], Sample[]];
    const title = step === 'a' ? `(a) ${CHANGES} concurrent creates, end to end` : '(b) apply alone, queue pre-filled';
    const rate = (x: Sample[]) => x.map((v) => v.rate);
    console.log(
      `| ${title}: applied/s, median [min-max] | ${range(rate(s))} | ${range(rate(f))} | ${range(rate(g))} | ${(median(rate(s)) / median(rate(f))).toFixed(2)}x | ${(median(rate(s)) / median(rate(g))).toFixed(2)}x |`,
    );
    console.log(
      `| ${title}: storage requests / applied change | ${range(
        s.map((v) => v.requests),
        2,
      )} | ${range(
        f.map((v) => v.requests),
        2,
      )} | ${range(
        g.map((v) => v.requests),
        2,
      )} | | |`,
    );
    console.log(
      `| ${title}: CPU ms / applied change | ${range(s.map((v) => v.cpuMs))} | ${range(f.map((v) => v.cpuMs))} | ${range(g.map((v) => v.cpuMs))} | ${(median(s.map((v) => v.cpuMs)) / median(f.map((v) => v.cpuMs))).toFixed(2)}x | |`,
    );
    const storageCpu = (x: Sample[]) => x.map((v) => v.storageCpuMs);
    console.log(
      `| ${title}: storage child CPU ms / applied change | ${range(storageCpu(s))} | ${range(storageCpu(f))} | ${range(storageCpu(g))} | ${(median(storageCpu(s)) / median(storageCpu(f))).toFixed(2)}x | |`,
    );
  }
  if (SECTIONS.includes('c')) printOneAtATime(oneAtATime);
  if (SECTIONS.includes('d')) printAdmissions();
  console.log('');
  for (const name of Object.keys(runs).sort()) console.log(`requests per change, last round, ${name}: ${perKind(runs[name] ?? [])}`);
  for (const name of Object.keys(admissions).sort())
    console.log(`requests per admission, last round, ${name}: ${perKind(admissions[name] ?? [], ADMISSIONS)}`);
}

function printOneAtATime(oneAtATime: { service: number[]; floor: number[]; service95: number[]; floor95: number[] }): void {
  console.log(
    `| (c) one at a time, submit -> applied: p50 ms, median [min-max] of ${ROUNDS} rounds x ${SEQUENTIAL} | ${range(oneAtATime.service)} | ${range(oneAtATime.floor)} | | ${(median(oneAtATime.service) / median(oneAtATime.floor)).toFixed(2)}x (latency) | |`,
  );
  console.log(
    `| (c) one at a time, submit -> applied: p95 ms, median [min-max] | ${range(oneAtATime.service95)} | ${range(oneAtATime.floor95)} | | ${(median(oneAtATime.service95) / median(oneAtATime.floor95)).toFixed(2)}x (latency) | |`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
