import { AuditAction } from './audit';
import { RejectionCode, type CreateEndpointRequest, type DeleteEndpointRequest } from './changeRequest';
import type { AddressHolder, DirectoryView, DirectoryWrite, Endpoint } from './directory';
import { domainOf, type Fqdn, type SipAddress } from './names';

/**
 * The rules of New- and Remove-CsPersistentChatEndpoint, as pure decisions over a directory view.
 * A decision either lists the writes that apply the change, or names the rule that refuses it.
 */

/** The change a request makes, ready to commit with its audit record. */
export interface Applied {
  outcome: 'applied';
  action: AuditAction;
  subject: string;
  writes: DirectoryWrite[];
  before: unknown;
  after: unknown;
}

/** The rule a request breaks. */
export interface Rejected {
  outcome: 'rejected';
  code: string;
  message: string;
  /** The request field the rule is about, as a JSON pointer. */
  pointer: string;
}

/** Nothing to do: the directory already is as requested (an idempotent PUT). */
export interface Unchanged {
  outcome: 'unchanged';
  current: unknown;
}

export type Decision = Applied | Rejected | Unchanged;

const reject = (code: string, pointer: string, message: string): Rejected => ({ outcome: 'rejected', code, message, pointer });

function holderRejection(holder: AddressHolder, sipAddress: SipAddress): Rejected {
  return holder.kind === 'endpoint'
    ? reject(RejectionCode.sipAddressHeldByEndpoint, '/sipAddress', `${sipAddress} is already an endpoint on pool ${holder.poolFqdn}`)
    : reject(RejectionCode.sipAddressHeldByUser, '/sipAddress',
      `${sipAddress} is held by a directory user; set replaceLegacyUser to replace it in one step (the migration case)`);
}

/** Decides a create: domain supported, pool registered, address free (or the named legacy user), pool free. */
export function decideCreate(request: CreateEndpointRequest, view: DirectoryView, context: { now: string; changeRequestId: string | null }): Decision {
  const { sipAddress, poolFqdn } = request;
  const domain = domainOf(sipAddress);
  if (!view.domain(domain)) {
    return reject(RejectionCode.sipDomainNotSupported, '/sipAddress', `SIP domain ${domain} is not a supported SIP domain of this deployment`);
  }
  const pool = view.pool(poolFqdn);
  if (!pool) return reject(RejectionCode.poolNotFound, '/poolFqdn', `${poolFqdn} is not a registered Persistent Chat pool`);

  const holder = view.holder(sipAddress);
  if (request.replaceLegacyUser === true) {
    if (holder === undefined) {
      return reject(RejectionCode.legacyUserNotFound, '/replaceLegacyUser', `replaceLegacyUser is set but no directory user holds ${sipAddress}`);
    }
    if (holder.kind !== 'user') return holderRejection(holder, sipAddress);
  } else if (holder !== undefined) {
    return holderRejection(holder, sipAddress);
  }
  if (pool.adminEndpointSipAddress !== null) {
    return reject(RejectionCode.poolHasEndpoint, '/poolFqdn',
      `pool ${poolFqdn} already has the legacy endpoint ${pool.adminEndpointSipAddress}; one per pool is all legacy clients can use`);
  }

  const endpoint: Endpoint = {
    kind: 'endpoint',
    sipAddress,
    poolFqdn,
    displayName: request.displayName ?? null,
    isDefault: false,
    createdAt: context.now,
    changeRequestId: context.changeRequestId,
  };
  return {
    outcome: 'applied',
    action: AuditAction.endpointCreated,
    subject: sipAddress,
    // One write replaces the legacy user (if any): the address never belongs to both or neither.
    writes: [{ type: 'putHolder', holder: endpoint }, { type: 'putPool', pool: { ...pool, adminEndpointSipAddress: sipAddress } }],
    before: holder ?? null,
    after: endpoint,
  };
}

/** Decides a delete: the address must be an admin-created endpoint, never a pool's default one. */
export function decideDelete(request: DeleteEndpointRequest, view: DirectoryView): Decision {
  const { sipAddress } = request;
  const holder = view.holder(sipAddress);
  if (holder?.kind !== 'endpoint') return reject(RejectionCode.endpointNotFound, '/sipAddress', `no Persistent Chat endpoint has the address ${sipAddress}`);
  if (holder.isDefault) {
    return reject(RejectionCode.defaultEndpointProtected, '/sipAddress',
      `${sipAddress} is the default endpoint of pool ${holder.poolFqdn}; it is system-owned and cannot be removed`);
  }
  const writes: DirectoryWrite[] = [{ type: 'removeHolder', sipAddress }];
  const pool = view.pool(holder.poolFqdn);
  if (pool && pool.adminEndpointSipAddress === sipAddress) writes.push({ type: 'putPool', pool: { ...pool, adminEndpointSipAddress: null } });
  return { outcome: 'applied', action: AuditAction.endpointDeleted, subject: sipAddress, writes, before: holder, after: null };
}

/** Topology rule codes: each refusal of a topology change has its own. */
export const TopologyCode = {
  sipDomainInUse: 'sip_domain_in_use',
  sipDomainNotFound: 'sip_domain_not_found',
  sipDomainNotSupported: 'sip_domain_not_supported',
  poolNotFound: 'pool_not_found',
  poolConflict: 'pool_already_registered',
  poolHasEndpoint: 'pool_has_endpoint',
  sipAddressInUse: 'sip_address_in_use',
  userNotFound: 'directory_user_not_found',
} as const;

/** Adds a supported SIP domain (Set-CsSipDomain's list); adding one twice changes nothing. */
export function decideAddDomain(name: Fqdn, view: DirectoryView, now: string): Decision {
  const existing = view.domain(name);
  if (existing) return { outcome: 'unchanged', current: existing };
  const domain = { name, addedAt: now };
  return { outcome: 'applied', action: AuditAction.sipDomainAdded, subject: `sip-domain:${name}`, writes: [{ type: 'putDomain', domain }], before: null, after: domain };
}

/** Removes a SIP domain, refused while any address (endpoint, default endpoint, user) uses it. */
export function decideRemoveDomain(name: Fqdn, view: DirectoryView): Decision {
  const existing = view.domain(name);
  if (!existing) return reject(TopologyCode.sipDomainNotFound, '/domain', `${name} is not a supported SIP domain`);
  if (view.domainInUse(name)) return reject(TopologyCode.sipDomainInUse, '/domain', `${name} is in use by an endpoint or directory user; remove those first`);
  return { outcome: 'applied', action: AuditAction.sipDomainRemoved, subject: `sip-domain:${name}`, writes: [{ type: 'removeDomain', name }], before: existing, after: null };
}

/** Registers a pool with its system-owned default endpoint, which is created with it. */
export function decideRegisterPool(fqdn: Fqdn, defaultEndpointSipAddress: SipAddress, view: DirectoryView, now: string): Decision {
  const existing = view.pool(fqdn);
  if (existing) {
    if (existing.defaultEndpointSipAddress === defaultEndpointSipAddress) return { outcome: 'unchanged', current: existing };
    return reject(TopologyCode.poolConflict, '/defaultEndpointSipAddress',
      `pool ${fqdn} is registered with the default endpoint ${existing.defaultEndpointSipAddress}; retire it before registering it again`);
  }
  const domain = domainOf(defaultEndpointSipAddress);
  if (!view.domain(domain)) {
    return reject(TopologyCode.sipDomainNotSupported, '/defaultEndpointSipAddress', `SIP domain ${domain} is not a supported SIP domain of this deployment`);
  }
  if (view.holder(defaultEndpointSipAddress)) {
    return reject(TopologyCode.sipAddressInUse, '/defaultEndpointSipAddress', `${defaultEndpointSipAddress} already belongs to another directory object`);
  }
  const pool = { fqdn, defaultEndpointSipAddress, adminEndpointSipAddress: null, registeredAt: now };
  const defaultEndpoint: Endpoint = {
    kind: 'endpoint', sipAddress: defaultEndpointSipAddress, poolFqdn: fqdn, displayName: null, isDefault: true, createdAt: now, changeRequestId: null,
  };
  return {
    outcome: 'applied',
    action: AuditAction.poolRegistered,
    subject: `pool:${fqdn}`,
    writes: [{ type: 'putPool', pool }, { type: 'putHolder', holder: defaultEndpoint }],
    before: null,
    after: { pool, defaultEndpoint },
  };
}

/** Retires a pool and its default endpoint, refused while an admin-created endpoint points at it. */
export function decideRetirePool(fqdn: Fqdn, view: DirectoryView): Decision {
  const pool = view.pool(fqdn);
  if (!pool) return reject(TopologyCode.poolNotFound, '/fqdn', `${fqdn} is not a registered Persistent Chat pool`);
  if (pool.adminEndpointSipAddress !== null) {
    return reject(TopologyCode.poolHasEndpoint, '/fqdn', `pool ${fqdn} still has the endpoint ${pool.adminEndpointSipAddress}; delete it first`);
  }
  const defaultEndpoint = view.holder(pool.defaultEndpointSipAddress);
  const writes: DirectoryWrite[] = [{ type: 'removePool', fqdn }];
  if (defaultEndpoint?.kind === 'endpoint' && defaultEndpoint.isDefault) writes.push({ type: 'removeHolder', sipAddress: defaultEndpoint.sipAddress });
  return { outcome: 'applied', action: AuditAction.poolRetired, subject: `pool:${fqdn}`, writes, before: { pool, defaultEndpoint: defaultEndpoint ?? null }, after: null };
}

/** Adds a directory user holding a SIP address (such as the well-known sip:ocschat@… user). */
export function decideAddUser(sipAddress: SipAddress, displayName: string | null, view: DirectoryView, now: string): Decision {
  const domain = domainOf(sipAddress);
  if (!view.domain(domain)) return reject(TopologyCode.sipDomainNotSupported, '/sipAddress', `SIP domain ${domain} is not a supported SIP domain of this deployment`);
  const holder = view.holder(sipAddress);
  if (holder?.kind === 'user' && holder.displayName === displayName) return { outcome: 'unchanged', current: holder };
  if (holder?.kind === 'endpoint') return reject(TopologyCode.sipAddressInUse, '/sipAddress', `${sipAddress} is a Persistent Chat endpoint on pool ${holder.poolFqdn}`);
  const user = { kind: 'user' as const, sipAddress, displayName, addedAt: holder?.kind === 'user' ? holder.addedAt : now };
  return { outcome: 'applied', action: AuditAction.directoryUserAdded, subject: sipAddress, writes: [{ type: 'putHolder', holder: user }], before: holder ?? null, after: user };
}

/** Removes a directory user. */
export function decideRemoveUser(sipAddress: SipAddress, view: DirectoryView): Decision {
  const holder = view.holder(sipAddress);
  if (holder?.kind !== 'user') return reject(TopologyCode.userNotFound, '/sipAddress', `no directory user holds ${sipAddress}`);
  return { outcome: 'applied', action: AuditAction.directoryUserRemoved, subject: sipAddress, writes: [{ type: 'removeHolder', sipAddress }], before: holder, after: null };
}
