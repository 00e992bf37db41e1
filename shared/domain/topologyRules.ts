import { AuditAction } from './audit';
import { TopologyCode } from './codes';
import { reject, type Decision } from './decision';
import type { DirectoryView, DirectoryWrite, Endpoint } from './directory';
import { domainOf, type Fqdn, type SipAddress } from './names';

/**
 * The rules of the topology this service keeps (SIP domains, Persistent Chat pools, directory users),
 * as pure decisions over a directory view. Each refusal has its own TopologyCode.
 */

/** Adds a supported SIP domain (Set-CsSipDomain's list); adding one twice changes nothing. */
export function decideAddDomain(name: Fqdn, view: DirectoryView, now: string): Decision<TopologyCode> {
  const existing = view.domain(name);
  if (existing) return { outcome: 'unchanged', current: existing };
  const domain = { name, addedAt: now };
  return {
    outcome: 'applied',
    action: AuditAction.sipDomainAdded,
    subject: `sip-domain:${name}`,
    writes: [{ type: 'putDomain', domain }],
    before: null,
    after: domain,
  };
}

/** Removes a SIP domain, refused while any address (endpoint, default endpoint, user) uses it. */
export function decideRemoveDomain(name: Fqdn, view: DirectoryView): Decision<TopologyCode> {
  const existing = view.domain(name);
  if (!existing) return reject(TopologyCode.sipDomainNotFound, '/domain', `${name} is not a supported SIP domain`);
  if (view.domainInUse(name))
    return reject(TopologyCode.sipDomainInUse, '/domain', `${name} is in use by an endpoint or directory user; remove those first`);
  return {
    outcome: 'applied',
    action: AuditAction.sipDomainRemoved,
    subject: `sip-domain:${name}`,
    writes: [{ type: 'removeDomain', name }],
    before: existing,
    after: null,
  };
}

/** Registers a pool with its system-owned default endpoint, which is created with it. */
export function decideRegisterPool(
  fqdn: Fqdn,
  defaultEndpointSipAddress: SipAddress,
  view: DirectoryView,
  now: string,
): Decision<TopologyCode> {
  const existing = view.pool(fqdn);
  if (existing) {
    // The same shape a first registration answers ({ pool, defaultEndpoint }), so a repeated PUT reads alike.
    if (existing.defaultEndpointSipAddress === defaultEndpointSipAddress)
      return { outcome: 'unchanged', current: { pool: existing, defaultEndpoint: view.holder(defaultEndpointSipAddress) ?? null } };
    return reject(
      TopologyCode.poolConflict,
      '/defaultEndpointSipAddress',
      `pool ${fqdn} is registered with the default endpoint ${existing.defaultEndpointSipAddress}; retire it before registering it again`,
    );
  }
  const domain = domainOf(defaultEndpointSipAddress);
  if (!view.domain(domain)) {
    return reject(
      TopologyCode.sipDomainNotSupported,
      '/defaultEndpointSipAddress',
      `SIP domain ${domain} is not a supported SIP domain of this deployment`,
    );
  }
  if (view.holder(defaultEndpointSipAddress)) {
    return reject(
      TopologyCode.sipAddressInUse,
      '/defaultEndpointSipAddress',
      `${defaultEndpointSipAddress} already belongs to another directory object`,
    );
  }
  const pool = { fqdn, defaultEndpointSipAddress, adminEndpointSipAddress: null, registeredAt: now };
  const defaultEndpoint: Endpoint = {
    kind: 'endpoint',
    sipAddress: defaultEndpointSipAddress,
    poolFqdn: fqdn,
    displayName: null,
    isDefault: true,
    createdAt: now,
    changeRequestId: null,
  };
  return {
    outcome: 'applied',
    action: AuditAction.poolRegistered,
    subject: `pool:${fqdn}`,
    writes: [
      { type: 'putPool', pool },
      { type: 'putHolder', holder: defaultEndpoint },
    ],
    before: null,
    after: { pool, defaultEndpoint },
  };
}

/** Retires a pool and its default endpoint, refused while an admin-created endpoint points at it. */
export function decideRetirePool(fqdn: Fqdn, view: DirectoryView): Decision<TopologyCode> {
  const pool = view.pool(fqdn);
  if (!pool) return reject(TopologyCode.poolNotFound, '/fqdn', `${fqdn} is not a registered Persistent Chat pool`);
  if (pool.adminEndpointSipAddress !== null) {
    return reject(
      TopologyCode.poolHasEndpoint,
      '/fqdn',
      `pool ${fqdn} still has the endpoint ${pool.adminEndpointSipAddress}; delete it first`,
    );
  }
  const defaultEndpoint = view.holder(pool.defaultEndpointSipAddress);
  const writes: DirectoryWrite[] = [{ type: 'removePool', fqdn }];
  if (defaultEndpoint?.kind === 'endpoint' && defaultEndpoint.isDefault)
    writes.push({ type: 'removeHolder', sipAddress: defaultEndpoint.sipAddress });
  return {
    outcome: 'applied',
    action: AuditAction.poolRetired,
    subject: `pool:${fqdn}`,
    writes,
    before: { pool, defaultEndpoint: defaultEndpoint ?? null },
    after: null,
  };
}

/** Adds a directory user holding a SIP address (such as the well-known sip:ocschat@… user). */
export function decideAddUser(
  sipAddress: SipAddress,
  displayName: string | null,
  view: DirectoryView,
  now: string,
): Decision<TopologyCode> {
  const domain = domainOf(sipAddress);
  if (!view.domain(domain))
    return reject(
      TopologyCode.sipDomainNotSupported,
      '/sipAddress',
      `SIP domain ${domain} is not a supported SIP domain of this deployment`,
    );
  const holder = view.holder(sipAddress);
  if (holder?.kind === 'user' && holder.displayName === displayName) return { outcome: 'unchanged', current: holder };
  if (holder?.kind === 'endpoint')
    return reject(TopologyCode.sipAddressInUse, '/sipAddress', `${sipAddress} is a Persistent Chat endpoint on pool ${holder.poolFqdn}`);
  const user = { kind: 'user' as const, sipAddress, displayName, addedAt: holder?.kind === 'user' ? holder.addedAt : now };
  return {
    outcome: 'applied',
    action: AuditAction.directoryUserAdded,
    subject: sipAddress,
    writes: [{ type: 'putHolder', holder: user }],
    before: holder ?? null,
    after: user,
  };
}

/** Removes a directory user. */
export function decideRemoveUser(sipAddress: SipAddress, view: DirectoryView): Decision<TopologyCode> {
  const holder = view.holder(sipAddress);
  if (holder?.kind !== 'user') return reject(TopologyCode.userNotFound, '/sipAddress', `no directory user holds ${sipAddress}`);
  return {
    outcome: 'applied',
    action: AuditAction.directoryUserRemoved,
    subject: sipAddress,
    writes: [{ type: 'removeHolder', sipAddress }],
    before: holder,
    after: null,
  };
}
