import { AuditAction } from './audit';
import type { CreateEndpointRequest, DeleteEndpointRequest } from './changeRequest';
import { RejectionCode } from './codes';
import { reject, type Decision, type Rejected } from './decision';
import type { AddressHolder, DirectoryView, DirectoryWrite, Endpoint } from './directory';
import { domainOf, type SipAddress } from './names';

/** The rules of New- and Remove-CsPersistentChatEndpoint, as pure decisions over a directory view. */

function holderRejection(holder: AddressHolder, sipAddress: SipAddress): Rejected<RejectionCode> {
  return holder.kind === 'endpoint'
    ? reject(RejectionCode.sipAddressHeldByEndpoint, '/sipAddress', `${sipAddress} is already an endpoint on pool ${holder.poolFqdn}`)
    : reject(
        RejectionCode.sipAddressHeldByUser,
        '/sipAddress',
        `${sipAddress} is held by a directory user; set replaceLegacyUser to replace it in one step (the migration case)`,
      );
}

/** Decides a create: domain supported, pool registered, address free (or the named legacy user), pool free. */
export function decideCreate(
  request: CreateEndpointRequest,
  view: DirectoryView,
  context: { now: string; changeRequestId: string | null },
): Decision<RejectionCode> {
  const { sipAddress, poolFqdn } = request;
  const domain = domainOf(sipAddress);
  if (!view.domain(domain)) {
    return reject(
      RejectionCode.sipDomainNotSupported,
      '/sipAddress',
      `SIP domain ${domain} is not a supported SIP domain of this deployment`,
    );
  }
  const pool = view.pool(poolFqdn);
  if (!pool) return reject(RejectionCode.poolNotFound, '/poolFqdn', `${poolFqdn} is not a registered Persistent Chat pool`);

  const holder = view.holder(sipAddress);
  if (request.replaceLegacyUser === true) {
    if (holder === undefined) {
      return reject(
        RejectionCode.legacyUserNotFound,
        '/replaceLegacyUser',
        `replaceLegacyUser is set but no directory user holds ${sipAddress}`,
      );
    }
    if (holder.kind !== 'user') return holderRejection(holder, sipAddress);
  } else if (holder !== undefined) {
    return holderRejection(holder, sipAddress);
  }
  if (pool.adminEndpointSipAddress !== null) {
    return reject(
      RejectionCode.poolHasEndpoint,
      '/poolFqdn',
      `pool ${poolFqdn} already has the legacy endpoint ${pool.adminEndpointSipAddress}; one per pool is all legacy clients can use`,
    );
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
    writes: [
      { type: 'putHolder', holder: endpoint },
      { type: 'putPool', pool: { ...pool, adminEndpointSipAddress: sipAddress } },
    ],
    before: holder ?? null,
    after: endpoint,
  };
}

/** Decides a delete: the address must be an admin-created endpoint, never a pool's default one. */
export function decideDelete(request: DeleteEndpointRequest, view: DirectoryView): Decision<RejectionCode> {
  const { sipAddress } = request;
  const holder = view.holder(sipAddress);
  if (holder?.kind !== 'endpoint')
    return reject(RejectionCode.endpointNotFound, '/sipAddress', `no Persistent Chat endpoint has the address ${sipAddress}`);
  if (holder.isDefault) {
    return reject(
      RejectionCode.defaultEndpointProtected,
      '/sipAddress',
      `${sipAddress} is the default endpoint of pool ${holder.poolFqdn}; it is system-owned and cannot be removed`,
    );
  }
  const writes: DirectoryWrite[] = [{ type: 'removeHolder', sipAddress }];
  const pool = view.pool(holder.poolFqdn);
  if (pool && pool.adminEndpointSipAddress === sipAddress)
    writes.push({ type: 'putPool', pool: { ...pool, adminEndpointSipAddress: null } });
  return { outcome: 'applied', action: AuditAction.endpointDeleted, subject: sipAddress, writes, before: holder, after: null };
}
