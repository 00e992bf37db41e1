import type { KeyObject } from 'node:crypto';
import { appendToChain, type AuditDraft, type AuditRecord } from '../domain/audit';
import type { ChangeRequest } from '../domain/changeRequest';
import type { AddressHolder, DirectoryView, DirectoryWrite } from '../domain/directory';
import { ConcurrencyError } from '../domain/errors';
import { domainOf, type Fqdn, type SipAddress } from '../domain/names';
import { toCloudEvent, type CloudEvent } from './events';
import type { Clock, DirectorySnapshot, DirectoryStore, IdGenerator, Logger, MessageBus, SnapshotQuery } from './ports';
import { publishEvents } from './publishEvents';
import { inTurn } from './inTurn';
import type { DeliveryPolicy } from './deliveryPolicy';

/** What every use case is built from (see shared/container.ts). */
export interface Dependencies {
  store: DirectoryStore;
  bus: MessageBus;
  clock: Clock;
  ids: IdGenerator;
  log: Logger;
  /** The CloudEvents `source` of this deployment's events. */
  eventSource: string;
  delivery: DeliveryPolicy;
  /** The Ed25519 key that signs audit checkpoints (AUDIT_SIGNING_KEY); without it no checkpoints are made. */
  signingKey?: KeyObject;
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

/** The snapshot query for decisions about one SIP address (and optionally a pool, a change request and the address's line). */
export function queryFor(sipAddress: SipAddress, poolFqdn?: Fqdn, changeRequestId?: string, withLine = false): SnapshotQuery {
  return {
    domains: [domainOf(sipAddress)],
    pools: poolFqdn ? [poolFqdn] : [],
    addresses: [sipAddress],
    changeRequests: changeRequestId ? [changeRequestId] : [],
    lines: withLine ? [sipAddress] : [],
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Attempt<R> = { done: true; result: R; records: AuditRecord[]; outbox: CloudEvent[] } | { done: false };

/** One read → decide → commit; `done: false` when another writer committed first. */
async function attempt<R>(deps: Dependencies, query: SnapshotQuery, planner: Planner<R>): Promise<Attempt<R>> {
  const snapshot = await deps.store.snapshot(query);
  const now = deps.clock.now();
  const { plan, result } = planner(snapshot, now);
  if (plan === null) return { done: true, result, records: [], outbox: [] };

  const { records, head } = appendToChain(snapshot.head, plan.audit, now);
  const outbox: CloudEvent[] = records.map((record) => toCloudEvent(record, deps.eventSource));
  try {
    await deps.store.commit({ expectedVersion: snapshot.version, head, writes: plan.writes, changeRequests: plan.changeRequests, audit: records, outbox });
  } catch (error) {
    if (error instanceof ConcurrencyError) return { done: false };
    throw error;
  }
  return { done: true, result, records, outbox };
}

/**
 * Read → decide → commit, retried while other writers win the race. The state change, the
 * change-request status, the audit records and their events commit together; the events are then
 * published from the outbox (and stay there for a re-drive if publishing fails).
 */
export async function commitDecision<R>(deps: Dependencies, query: SnapshotQuery, planner: Planner<R>): Promise<{ result: R; records: AuditRecord[] }> {
  for (let attemptNumber = 1; ; attemptNumber++) {
    // One writer at a time per store in this process: commits serialize on the head row anyway.
    const outcome = await inTurn(deps.store, () => attempt(deps, query, planner));
    if (outcome.done) {
      await publishEvents(deps, outcome.outbox);
      return { result: outcome.result, records: outcome.records };
    }
    if (attemptNumber >= MAX_ATTEMPTS) throw new ConcurrencyError('concurrent_change', 'the directory is busy: other writers kept committing first');
    // Another process won: back off with jitter and decide again on fresh state.
    await pause(Math.random() * Math.min(100, 2 * attemptNumber));
  }
}
