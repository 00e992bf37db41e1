import { appendToChain, type AuditDraft, type AuditRecord } from '../domain/audit';
import type { ChangeRequest } from '../domain/changeRequest';
import type { AddressHolder, DirectoryView, DirectoryWrite } from '../domain/directory';
import { ConcurrencyError } from '../domain/errors';
import { domainOf, type Fqdn, type SipAddress } from '../domain/names';
import { toCloudEvent, type CloudEvent } from './events';
import type { Clock, DirectorySnapshot, DirectoryStore, IdGenerator, Logger, MessageBus, SnapshotQuery } from './ports';
import { publishEvents } from './publishEvents';

/** What every use case is built from (see shared/container.ts). */
export interface Dependencies {
  store: DirectoryStore;
  bus: MessageBus;
  clock: Clock;
  ids: IdGenerator;
  log: Logger;
  /** The CloudEvents `source` of this deployment's events. */
  eventSource: string;
}

/** What a decision commits: state writes, change-request updates and audit records. */
export interface Plan {
  writes: DirectoryWrite[];
  changeRequests: ChangeRequest[];
  audit: AuditDraft[];
}

/** A planner decides on a snapshot: a plan to commit (or null for "nothing to do") and the result to return. */
export type Planner<R> = (snapshot: DirectorySnapshot, now: Date) => { plan: Plan | null; result: R };

const MAX_ATTEMPTS = 50;

/** The directory view a domain decision reads, over a snapshot. */
export function viewOf(snapshot: DirectorySnapshot): DirectoryView {
  return {
    domain: (name: Fqdn) => snapshot.domains.get(name),
    pool: (fqdn: Fqdn) => snapshot.pools.get(fqdn),
    holder: (sipAddress: SipAddress): AddressHolder | undefined => snapshot.holders.get(sipAddress),
    domainInUse: (name: Fqdn) => snapshot.domainsInUse.has(name),
  };
}

/** The snapshot query for decisions about one SIP address (and optionally a pool). */
export function queryFor(sipAddress: SipAddress, poolFqdn?: Fqdn, changeRequestId?: string): SnapshotQuery {
  return {
    domains: [domainOf(sipAddress)],
    pools: poolFqdn ? [poolFqdn] : [],
    addresses: [sipAddress],
    changeRequests: changeRequestId ? [changeRequestId] : [],
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Read → decide → commit, retried while other writers win the race. The state change, the
 * change-request status, the audit records and their events commit together; the events are then
 * published from the outbox (and stay there for a re-drive if publishing fails).
 */
export async function commitDecision<R>(deps: Dependencies, query: SnapshotQuery, planner: Planner<R>): Promise<{ result: R; records: AuditRecord[] }> {
  for (let attempt = 1; ; attempt++) {
    const snapshot = await deps.store.snapshot(query);
    const now = deps.clock.now();
    const { plan, result } = planner(snapshot, now);
    if (plan === null) return { result, records: [] };

    const { records, head } = appendToChain(snapshot.head, plan.audit, now);
    const changeRequests = plan.changeRequests.map((request) => ({
      ...request,
      auditSequence: records.find((record) => record.changeRequestId === request.id)?.sequence ?? request.auditSequence,
    }));
    const outbox: CloudEvent[] = records.map((record) => toCloudEvent(record, deps.eventSource));
    try {
      await deps.store.commit({ expectedVersion: snapshot.version, head, writes: plan.writes, changeRequests, audit: records, outbox });
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || attempt >= MAX_ATTEMPTS) throw error;
      // Contention is short-lived (one partition, small commits): back off with jitter and decide again.
      await pause(Math.random() * Math.min(100, 2 * attempt));
      continue;
    }
    await publishEvents(deps, outbox);
    return { result, records };
  }
}
