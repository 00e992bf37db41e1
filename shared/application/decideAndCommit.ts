import { appendToChain, type AuditDraft, type AuditRecord } from '../domain/audit';
import type { ChangeRequest } from '../domain/changeRequest';
import type { DirectoryView, DirectoryWrite } from '../domain/directory';
import type { ServiceDependencies } from './dependencies';
import { toCloudEvent, type CloudEvent } from './events';
import type { DirectoryReads, DirectorySnapshot } from './ports/directory';
import { publishEvents } from './publishEvents';
import { retryWhileContended } from './retry';

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
export type CommitDependencies = Pick<
  ServiceDependencies,
  'directory' | 'outbox' | 'bus' | 'clock' | 'log' | 'mutex' | 'eventSource' | 'tracing'
>;

/** Every commit of this process takes its turn under this key: all of them rewrite the head row. */
const HEAD_KEY = 'directory-head';

/** The directory view a domain decision reads, over a snapshot. */
export function viewOf(snapshot: DirectorySnapshot): DirectoryView {
  return {
    domain: (name) => snapshot.domains.get(name),
    pool: (fqdn) => snapshot.pools.get(fqdn),
    holder: (sipAddress) => snapshot.holders.get(sipAddress),
    domainInUse: (name) => snapshot.domainsInUse.has(name),
  };
}

interface Committed<R> {
  result: R;
  records: AuditRecord[];
  outbox: CloudEvent[];
}

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

/** One read → decide → commit; throws ConcurrencyError when another writer committed since the read. */
async function attempt<R>(deps: CommitDependencies, reads: DirectoryReads, decide: Decide<R>): Promise<Committed<R>> {
  const snapshot = await deps.directory.snapshot(reads);
  const now = deps.clock.now();
  const { plan, result } = decide(snapshot, now);
  if (plan === null) return { result, records: [], outbox: [] };

  const { records, head } = appendToChain(snapshot.head, plan.audit, now);
  const outbox = eventsOf(deps, records, plan.changeRequests);
  await deps.directory.commit({
    expectedVersion: snapshot.version,
    head,
    writes: plan.writes,
    changeRequests: plan.changeRequests,
    storedStatuses: storedStatusesOf(snapshot, plan.changeRequests),
    audit: records,
    outbox,
  });
  return { result, records, outbox };
}

/**
 * Read → decide → commit, decided again on fresh state while other writers win the race. The state
 * change, the change-request statuses, the audit records and their events commit together; the
 * events are then published from the outbox (and stay there for the re-driver if publishing fails).
 */
export async function decideAndCommit<R>(
  deps: CommitDependencies,
  reads: DirectoryReads,
  decide: Decide<R>,
): Promise<{ result: R; records: AuditRecord[] }> {
  const committed = await retryWhileContended(() => deps.mutex.runExclusive(HEAD_KEY, () => attempt(deps, reads, decide)));
  await publishEvents(deps, committed.outbox);
  return { result: committed.result, records: committed.records };
}
