import { appendToChain, type AuditDraft, type AuditRecord } from '../domain/audit';
import type { ChangeRequest } from '../domain/changeRequest';
import { domainOf } from '../domain/names';
import type { DirectoryWrite } from '../domain/directory';
import { ConcurrencyError } from '../domain/errors';
import type { ServiceDependencies } from './dependencies';
import { toCloudEvent, type CloudEvent } from './events';
import type { Directory, DirectoryCommit, DirectoryReads, DirectorySnapshot, Freshness } from './ports/directory';
import { CONTENTION_RETRY, pauseBeforeRetry } from './retry';

/** What a decision commits: state writes, change-request updates and audit records. */
export interface Plan {
  writes: DirectoryWrite[];
  changeRequests: ChangeRequest[];
  audit: AuditDraft[];
}

/** A decision on a snapshot: the plan to commit (null when there is nothing to write) and the result to return. */
export interface Decided<R> {
  plan: Plan | null;
  result: R;
}

/** Decides on a snapshot, purely: it may be called again on a fresh snapshot when another writer won. */
export type Decide<R> = (snapshot: DirectorySnapshot, now: Date) => Decided<R>;

/** What committing a decision needs. */
export type CommitDependencies = Pick<ServiceDependencies, 'directory' | 'outbox' | 'bus' | 'clock' | 'log' | 'eventSource' | 'tracing'>;

/** A decision's outcome once committed: its result, the audit records it appended and their events (to publish). */
export interface Committed<R> {
  result: R;
  records: AuditRecord[];
  outbox: CloudEvent[];
}

/** One decision waiting for the writer. */
interface Job {
  deps: CommitDependencies;
  reads: DirectoryReads;
  decide: Decide<unknown>;
  resolve: (committed: Committed<unknown>) => void;
  reject: (error: unknown) => void;
}

/**
 * The most decisions one group considers: a transaction holds about five changes, so a longer line
 * would only widen the snapshot read for decisions that then wait for the next group anyway.
 */
const MAX_GROUP = 16;

/** What one try made of one job: decided (to commit with the group), or threw. */
type Outcome = { kind: 'decided'; committed: Committed<unknown> } | { kind: 'threw'; error: unknown };

/**
 * The directory's writer in this process: decisions take their turn here, and the decisions waiting
 * when the writer comes free are decided one after another and committed together, in one atomic
 * step, so one round trip to storage carries many changes. Decisions join a group only while they
 * are independent of it: a decision whose reads overlap what an earlier one in the group writes
 * waits for the next group, so every decision in a group sees exactly the state it would have seen
 * alone (only the audit head moves along). The snapshot a group decides on may come from what the
 * directory already knows (`cached`); the commit's version guard refuses it if another process
 * committed since, and the whole group is then decided again on a fresh snapshot.
 */
export class DirectoryWriter {
  private readonly waiting: Job[] = [];
  private writing = false;

  constructor(private readonly directory: Directory) {}

  /** Decides and commits; resolves once committed (nothing is published here). */
  run<R>(deps: CommitDependencies, reads: DirectoryReads, decide: Decide<R>): Promise<Committed<R>> {
    return new Promise<Committed<R>>((resolve, reject) => {
      this.waiting.push({ deps, reads, decide, resolve: resolve as Job['resolve'], reject });
      if (!this.writing) void this.write();
    });
  }

  private async write(): Promise<void> {
    this.writing = true;
    try {
      while (this.waiting.length > 0) {
        const group = this.waiting.splice(0, MAX_GROUP);
        const left = await this.commitGroup(group);
        this.waiting.unshift(...left);
      }
    } finally {
      this.writing = false;
    }
  }

  /**
   * Decides and commits as many of `jobs` as fit in one commit, in order, settling each; returns the
   * rest, for the next group. A lost race is decided again on a fresh snapshot; another failure of a commit of several
   * decisions is retried one decision at a time, so a decision that cannot commit fails alone.
   */
  private async commitGroup(jobs: Job[]): Promise<Job[]> {
    let freshness: Freshness = 'cached';
    for (let tries = 1; ; tries++) {
      try {
        const { outcomes, left } = await this.attempt(jobs, freshness);
        outcomes.forEach((outcome, i) => settle(jobs[i] as Job, outcome));
        return left;
      } catch (error) {
        if (error instanceof ConcurrencyError && tries < CONTENTION_RETRY.attempts) {
          freshness = 'current';
          await pauseBeforeRetry(tries, CONTENTION_RETRY);
          continue;
        }
        if (jobs.length > 1 && !(error instanceof ConcurrencyError)) {
          // One by one: a lone decision always fits its own commit, so none is left over.
          for (const job of jobs) await this.commitGroup([job]);
          return [];
        }
        for (const job of jobs) job.reject(error);
        return [];
      }
    }
  }

  /** One snapshot, the jobs decided on it in turn while they stay independent, one commit. */
  private async attempt(jobs: Job[], freshness: Freshness): Promise<{ outcomes: Outcome[]; left: Job[] }> {
    const snapshot = await this.directory.snapshot(unionOf(jobs.map((job) => job.reads)), freshness);
    const now = (jobs[0] as Job).deps.clock.now();
    const outcomes: Outcome[] = [];
    const written = new Set<string>();
    let head = snapshot.head;
    let commit: DirectoryCommit | undefined;
    let left: Job[] = [];

    for (const [i, job] of jobs.entries()) {
      if (commit !== undefined && overlaps(readsOf(job.reads, snapshot), written)) {
        left = jobs.slice(i);
        break;
      }
      let decided: Decided<unknown>;
      try {
        decided = job.decide({ ...snapshot, head }, now);
      } catch (error) {
        outcomes.push({ kind: 'threw', error });
        continue;
      }
      if (decided.plan === null) {
        outcomes.push({ kind: 'decided', committed: { result: decided.result, records: [], outbox: [] } });
        continue;
      }
      const plan = decided.plan;
      const appended = appendToChain(head, plan.audit, now);
      const part: DirectoryCommit = {
        expectedVersion: snapshot.version,
        head: appended.head,
        writes: plan.writes,
        changeRequests: plan.changeRequests,
        storedStatuses: storedStatusesOf(snapshot, plan.changeRequests),
        audit: appended.records,
        outbox: eventsOf(job.deps, appended.records, plan.changeRequests),
      };
      const joined = commit === undefined ? part : join(commit, part);
      const writes = writtenBy(plan);
      if (commit !== undefined && (overlaps(writes.filter(isRow), written) || !this.directory.fits(joined))) {
        left = jobs.slice(i);
        break;
      }
      commit = joined;
      head = appended.head;
      for (const key of writes) written.add(key);
      outcomes.push({ kind: 'decided', committed: { result: decided.result, records: part.audit, outbox: part.outbox } });
    }

    if (commit !== undefined) await this.directory.commit(commit);
    else if (freshness === 'cached') return this.attempt(jobs, 'current'); // nothing to commit: answer as of now, not as of the cache
    return { outcomes, left };
  }
}

function settle(job: Job, outcome: Outcome): void {
  if (outcome.kind === 'decided') job.resolve(outcome.committed);
  else job.reject(outcome.error);
}

/** Two commits of independent decisions as one: the later one's head, both decisions' rows. */
function join(first: DirectoryCommit, second: DirectoryCommit): DirectoryCommit {
  return {
    expectedVersion: first.expectedVersion,
    head: second.head,
    writes: [...first.writes, ...second.writes],
    changeRequests: [...first.changeRequests, ...second.changeRequests],
    storedStatuses: new Map([...first.storedStatuses, ...second.storedStatuses]),
    audit: [...first.audit, ...second.audit],
    outbox: [...first.outbox, ...second.outbox],
  };
}

/** Everything several decisions read, deduplicated. */
function unionOf(reads: DirectoryReads[]): DirectoryReads {
  const all = <T>(pick: (r: DirectoryReads) => T[] | undefined) => [...new Set(reads.flatMap((r) => pick(r) ?? []))];
  return {
    domains: all((r) => r.domains),
    pools: all((r) => r.pools),
    addresses: all((r) => r.addresses),
    domainUsage: all((r) => r.domainUsage),
    changeRequests: all((r) => r.changeRequests),
    waitingLists: all((r) => r.waitingLists),
    likelyFirstTicket: all((r) => r.likelyFirstTicket),
    poolEndpoints: reads.some((r) => r.poolEndpoints !== false),
  };
}

/**
 * What a decision may look at, named as `writtenBy` names what a plan changes: what it asked for,
 * and what comes along with it in the snapshot (a pool's endpoints, an endpoint's pool, the pool
 * and record of the request next in a waiting list).
 */
function readsOf(reads: DirectoryReads, snapshot: DirectorySnapshot): string[] {
  const keys: string[] = [];
  const pool = (fqdn: string) => {
    keys.push(`pool:${fqdn}`);
    const found = snapshot.pools.get(fqdn);
    if (found) keys.push(`holder:${found.defaultEndpointSipAddress}`, `holder:${found.adminEndpointSipAddress}`);
  };
  for (const name of reads.domains ?? []) keys.push(`domain:${name}`);
  for (const fqdn of reads.pools ?? []) pool(fqdn);
  for (const address of reads.addresses ?? []) {
    keys.push(`holder:${address}`);
    const holder = snapshot.holders.get(address);
    if (holder?.kind === 'endpoint') pool(holder.poolFqdn);
  }
  for (const name of reads.domainUsage ?? []) keys.push(`usage:${name}`);
  for (const id of reads.changeRequests ?? []) keys.push(`request:${id}`);
  for (const address of reads.waitingLists ?? []) {
    keys.push(`waiting:${address}`);
    const next = snapshot.nextWaiting.get(address);
    if (next) {
      keys.push(`request:${next.id}`);
      if (next.request.operation === 'create') pool(next.request.poolFqdn);
    }
  }
  return keys;
}

/** What a plan changes: each holder (and whether its domain is in use), pool, domain, request, and the waiting list a settled request leaves. */
function writtenBy(plan: Plan): string[] {
  const keys = plan.writes.flatMap((write): string[] => {
    switch (write.type) {
      case 'putHolder':
        return [`holder:${write.holder.sipAddress}`, `usage:${domainOf(write.holder.sipAddress)}`];
      case 'removeHolder':
        return [`holder:${write.sipAddress}`, `usage:${domainOf(write.sipAddress)}`];
      case 'putPool':
        return [`pool:${write.pool.fqdn}`];
      case 'removePool':
        return [`pool:${write.fqdn}`];
      case 'putDomain':
        return [`domain:${write.domain.name}`];
      case 'removeDomain':
        return [`domain:${write.name}`];
    }
  });
  for (const request of plan.changeRequests) {
    keys.push(`request:${request.id}`);
    if (request.request !== null) keys.push(`waiting:${request.request.sipAddress}`);
  }
  return keys;
}

const overlaps = (keys: string[], written: Set<string>) => keys.some((key) => written.has(key));

/**
 * Whether a key names something stored once: two decisions of one commit must not both write it.
 * Whether a domain is in use is not: it follows from the holders, and many decisions may change it
 * (only a decision that reads it must wait).
 */
const isRow = (key: string) => !key.startsWith('usage:');

/**
 * Each record's event carries the trace of the change request it settles (from the plan), continued
 * by the active span when telemetry is on; records about no traced request (topology) carry none.
 */
function eventsOf(deps: CommitDependencies, records: AuditRecord[], changeRequests: ChangeRequest[]): CloudEvent[] {
  const traces = new Map(changeRequests.map((request) => [request.id, request.traceContext]));
  return records.map((record) => {
    const trace = record.changeRequestId === null ? undefined : traces.get(record.changeRequestId);
    return toCloudEvent(record, deps.eventSource, trace && deps.tracing.contextFor(trace));
  });
}

/** The stored status of each request the plan changes, as the snapshot read it (directly, or as the next in a waiting list). */
function storedStatusesOf(snapshot: DirectorySnapshot, changeRequests: ChangeRequest[]): Map<string, ChangeRequest['status']> {
  const stored = new Map<string, ChangeRequest['status']>();
  const waiting = new Map([...snapshot.nextWaiting.values()].map((request) => [request.id, request]));
  for (const { id } of changeRequests) {
    const before = snapshot.changeRequests.get(id) ?? waiting.get(id);
    if (before) stored.set(id, before.status);
  }
  return stored;
}
