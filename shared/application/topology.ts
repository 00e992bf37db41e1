import { AuditAction, type AuditDraft, type AuditRecord } from '../domain/audit';
import { TopologyCode } from '../domain/codes';
import type { Decision, Rejected } from '../domain/decision';
import type { DirectoryView } from '../domain/directory';
import { ConflictError, NotFoundError } from '../domain/errors';
import { domainOf, type Fqdn, type SipAddress } from '../domain/names';
import {
  decideAddDomain,
  decideAddUser,
  decideRegisterPool,
  decideRemoveDomain,
  decideRemoveUser,
  decideRetirePool,
} from '../domain/topologyRules';
import { decideAndCommit, viewOf, type CommitDependencies } from './decideAndCommit';
import type { ServiceDependencies } from './dependencies';
import type { DirectoryReads } from './ports/directory';

/** What a topology change needs. */
export type TopologyDependencies = CommitDependencies & Pick<ServiceDependencies, 'ids'>;

/** Who asks for a topology change. */
export interface Requester {
  actor: string;
  correlationId: string;
}

/** The result of a topology change: whether it created, changed what was there (a user's display name), changed nothing, or removed. */
export interface TopologyChangeResult {
  outcome: 'created' | 'replaced' | 'unchanged' | 'removed';
  value: unknown;
  auditRecord: AuditRecord | null;
}

/** One topology change: what it reads, how the rules decide it, and how a refusal by a rule is audited. */
interface TopologyChange {
  reads: DirectoryReads;
  decide: (view: DirectoryView, now: string) => Decision<TopologyCode>;
  /**
   * The audit action of a refusal (409), the object it is about, and the state the rule refused in
   * view of; null for a change no rule refuses but for its object not existing (404).
   */
  refusal: { action: AuditAction; subject: string; current: (view: DirectoryView) => unknown } | null;
}

/** Refusals that mean "there is no such thing" (404): nothing was attempted on an object, so nothing is audited. */
const NOT_FOUND_CODES: ReadonlySet<TopologyCode> = new Set([
  TopologyCode.sipDomainNotFound,
  TopologyCode.poolNotFound,
  TopologyCode.userNotFound,
]);

/** A topology audit record by `requester`: no change request behind it. */
function topologyAudit(
  deps: TopologyDependencies,
  requester: Requester,
  fields: Pick<AuditDraft, 'action' | 'subject' | 'outcome' | 'before' | 'after'>,
): AuditDraft {
  return {
    id: deps.ids.next(),
    actor: requester.actor,
    changeRequestId: null,
    correlationId: requester.correlationId,
    causationId: null,
    ...fields,
  };
}

/** The audit record of a change a rule refused: outcome rejected with the rule's code; before = after = the state as it stays. */
function refusalAudit(
  deps: TopologyDependencies,
  requester: Requester,
  view: DirectoryView,
  refusal: NonNullable<TopologyChange['refusal']>,
  refused: Rejected<TopologyCode>,
): AuditDraft {
  const current = refusal.current(view) ?? null;
  return topologyAudit(deps, requester, {
    action: refusal.action,
    subject: refusal.subject,
    outcome: { status: 'rejected', code: refused.code, message: refused.message },
    before: current,
    after: current,
  });
}

/**
 * Runs one topology decision through the audited commit. An applied change commits its writes and
 * audit record; a change a rule refuses (409) commits its audit record alone, so the refusal is on
 * the record and announced like a rejected change request, and then answers ConflictError. A
 * refusal because the object does not exist answers NotFoundError and writes nothing.
 */
async function changeTopology(deps: TopologyDependencies, requester: Requester, change: TopologyChange): Promise<TopologyChangeResult> {
  const { result, records } = await decideAndCommit<Decision<TopologyCode>>(deps, change.reads, (snapshot, now) => {
    const view = viewOf(snapshot);
    const decision = change.decide(view, now.toISOString());
    if (decision.outcome === 'unchanged') return { plan: null, result: decision };
    if (decision.outcome === 'rejected') {
      if (NOT_FOUND_CODES.has(decision.code) || change.refusal === null) return { plan: null, result: decision };
      const audit = refusalAudit(deps, requester, view, change.refusal, decision);
      return { plan: { writes: [], changeRequests: [], audit: [audit] }, result: decision };
    }
    const audit = topologyAudit(deps, requester, {
      action: decision.action,
      subject: decision.subject,
      outcome: { status: 'applied' },
      before: decision.before,
      after: decision.after,
    });
    return { plan: { writes: decision.writes, changeRequests: [], audit: [audit] }, result: decision };
  });
  if (result.outcome === 'rejected') {
    const errors = [{ pointer: `#${result.pointer}`, detail: result.message }];
    if (NOT_FOUND_CODES.has(result.code)) throw new NotFoundError(result.code, result.message);
    throw new ConflictError(result.code, result.message, { errors });
  }
  if (result.outcome === 'unchanged') return { outcome: 'unchanged', value: result.current, auditRecord: null };
  return { outcome: outcomeOf(result.before, result.after), value: result.after ?? result.before, auditRecord: records[0] ?? null };
}

/** What an applied change did, from the state before and after it. */
function outcomeOf(before: unknown, after: unknown): TopologyChangeResult['outcome'] {
  if (after === null) return 'removed';
  return before === null ? 'created' : 'replaced';
}

/** PUT /api/topology/sip-domains/{domain}. */
export function addSipDomain(deps: TopologyDependencies, requester: Requester, name: Fqdn): Promise<TopologyChangeResult> {
  return changeTopology(deps, requester, {
    reads: { domains: [name] },
    decide: (view, now) => decideAddDomain(name, view, now),
    // Adding a domain is never refused: it exists already (200) or it is added.
    refusal: null,
  });
}

/** DELETE /api/topology/sip-domains/{domain}. */
export function removeSipDomain(deps: TopologyDependencies, requester: Requester, name: Fqdn): Promise<TopologyChangeResult> {
  return changeTopology(deps, requester, {
    reads: { domains: [name], domainUsage: [name] },
    decide: (view) => decideRemoveDomain(name, view),
    refusal: { action: AuditAction.sipDomainRemoveRejected, subject: `sip-domain:${name}`, current: (view) => view.domain(name) },
  });
}

/** PUT /api/topology/pools/{fqdn}. */
export function registerPool(
  deps: TopologyDependencies,
  requester: Requester,
  fqdn: Fqdn,
  defaultEndpointSipAddress: SipAddress,
): Promise<TopologyChangeResult> {
  return changeTopology(deps, requester, {
    reads: { pools: [fqdn], addresses: [defaultEndpointSipAddress], domains: [domainOf(defaultEndpointSipAddress)] },
    decide: (view, now) => decideRegisterPool(fqdn, defaultEndpointSipAddress, view, now),
    refusal: {
      action: AuditAction.poolRegisterRejected,
      subject: `pool:${fqdn}`,
      current: (view) => ({ pool: view.pool(fqdn) ?? null, addressHolder: view.holder(defaultEndpointSipAddress) ?? null }),
    },
  });
}

/** DELETE /api/topology/pools/{fqdn}; the pool's default endpoint goes with it. */
export function retirePool(deps: TopologyDependencies, requester: Requester, fqdn: Fqdn): Promise<TopologyChangeResult> {
  return changeTopology(deps, requester, {
    reads: { pools: [fqdn] },
    decide: (view) => decideRetirePool(fqdn, view),
    refusal: {
      action: AuditAction.poolRetireRejected,
      subject: `pool:${fqdn}`,
      current: (view) => {
        const pool = view.pool(fqdn);
        return { pool: pool ?? null, defaultEndpoint: pool ? (view.holder(pool.defaultEndpointSipAddress) ?? null) : null };
      },
    },
  });
}

/** PUT /api/topology/users/{sipAddress}. */
export function addDirectoryUser(
  deps: TopologyDependencies,
  requester: Requester,
  sipAddress: SipAddress,
  displayName: string | null,
): Promise<TopologyChangeResult> {
  return changeTopology(deps, requester, {
    reads: { addresses: [sipAddress], domains: [domainOf(sipAddress)] },
    decide: (view, now) => decideAddUser(sipAddress, displayName, view, now),
    refusal: { action: AuditAction.directoryUserAddRejected, subject: sipAddress, current: (view) => view.holder(sipAddress) },
  });
}

/** DELETE /api/topology/users/{sipAddress}. */
export function removeDirectoryUser(
  deps: TopologyDependencies,
  requester: Requester,
  sipAddress: SipAddress,
): Promise<TopologyChangeResult> {
  return changeTopology(deps, requester, {
    reads: { addresses: [sipAddress] },
    decide: (view) => decideRemoveUser(sipAddress, view),
    // The only refusal is that no such user exists (404).
    refusal: null,
  });
}
