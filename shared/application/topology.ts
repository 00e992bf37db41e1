import type { AuditRecord } from '../domain/audit';
import { TopologyCode } from '../domain/codes';
import type { Decision } from '../domain/decision';
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

/** The result of a topology change: whether it created, changed nothing, or removed. */
export interface TopologyChangeResult {
  outcome: 'created' | 'unchanged' | 'removed';
  value: unknown;
  auditRecord: AuditRecord | null;
}

const NOT_FOUND_CODES: ReadonlySet<TopologyCode> = new Set([
  TopologyCode.sipDomainNotFound,
  TopologyCode.poolNotFound,
  TopologyCode.userNotFound,
]);

/** Runs one topology decision through the audited commit; refusals become NotFound or Conflict errors. */
async function changeTopology(
  deps: TopologyDependencies,
  requester: Requester,
  reads: DirectoryReads,
  decide: (view: DirectoryView, now: string) => Decision<TopologyCode>,
): Promise<TopologyChangeResult> {
  const { result, records } = await decideAndCommit<Decision<TopologyCode>>(deps, reads, (snapshot, now) => {
    const decision = decide(viewOf(snapshot), now.toISOString());
    if (decision.outcome !== 'applied') return { plan: null, result: decision };
    const audit = {
      id: deps.ids.next(),
      actor: requester.actor,
      action: decision.action,
      subject: decision.subject,
      changeRequestId: null,
      correlationId: requester.correlationId,
      causationId: null,
      outcome: { status: 'applied' as const },
      before: decision.before,
      after: decision.after,
    };
    return { plan: { writes: decision.writes, changeRequests: [], audit: [audit] }, result: decision };
  });
  if (result.outcome === 'rejected') {
    const errors = [{ pointer: `#${result.pointer}`, detail: result.message }];
    if (NOT_FOUND_CODES.has(result.code)) throw new NotFoundError(result.code, result.message);
    throw new ConflictError(result.code, result.message, { errors });
  }
  if (result.outcome === 'unchanged') return { outcome: 'unchanged', value: result.current, auditRecord: null };
  return { outcome: result.after === null ? 'removed' : 'created', value: result.after ?? result.before, auditRecord: records[0] ?? null };
}

/** PUT /api/topology/sip-domains/{domain}. */
export function addSipDomain(deps: TopologyDependencies, requester: Requester, name: Fqdn): Promise<TopologyChangeResult> {
  return changeTopology(deps, requester, { domains: [name] }, (view, now) => decideAddDomain(name, view, now));
}

/** DELETE /api/topology/sip-domains/{domain}. */
export function removeSipDomain(deps: TopologyDependencies, requester: Requester, name: Fqdn): Promise<TopologyChangeResult> {
  return changeTopology(deps, requester, { domains: [name], domainUsage: [name] }, (view) => decideRemoveDomain(name, view));
}

/** PUT /api/topology/pools/{fqdn}. */
export function registerPool(
  deps: TopologyDependencies,
  requester: Requester,
  fqdn: Fqdn,
  defaultEndpointSipAddress: SipAddress,
): Promise<TopologyChangeResult> {
  const reads = { pools: [fqdn], addresses: [defaultEndpointSipAddress], domains: [domainOf(defaultEndpointSipAddress)] };
  return changeTopology(deps, requester, reads, (view, now) => decideRegisterPool(fqdn, defaultEndpointSipAddress, view, now));
}

/** DELETE /api/topology/pools/{fqdn}; the pool's default endpoint goes with it. */
export function retirePool(deps: TopologyDependencies, requester: Requester, fqdn: Fqdn): Promise<TopologyChangeResult> {
  return changeTopology(deps, requester, { pools: [fqdn] }, (view) => decideRetirePool(fqdn, view));
}

/** PUT /api/topology/users/{sipAddress}. */
export function addDirectoryUser(
  deps: TopologyDependencies,
  requester: Requester,
  sipAddress: SipAddress,
  displayName: string | null,
): Promise<TopologyChangeResult> {
  const reads = { addresses: [sipAddress], domains: [domainOf(sipAddress)] };
  return changeTopology(deps, requester, reads, (view, now) => decideAddUser(sipAddress, displayName, view, now));
}

/** DELETE /api/topology/users/{sipAddress}. */
export function removeDirectoryUser(
  deps: TopologyDependencies,
  requester: Requester,
  sipAddress: SipAddress,
): Promise<TopologyChangeResult> {
  return changeTopology(deps, requester, { addresses: [sipAddress] }, (view) => decideRemoveUser(sipAddress, view));
}
