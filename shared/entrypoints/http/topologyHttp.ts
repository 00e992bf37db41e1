import { z } from 'zod';
import { DisplayNameSchema } from '../../domain/changeRequest';
import { FqdnSchema, SipAddressSchema, type Fqdn, type SipAddress } from '../../domain/names';
import type { ServiceDependencies } from '../../application/dependencies';
import {
  addDirectoryUser,
  addSipDomain,
  registerPool,
  removeDirectoryUser,
  removeSipDomain,
  retirePool,
  type TopologyChangeResult,
  type TopologyDependencies,
} from '../../application/topology';
import { Role } from '../../domain/principal';
import { httpEntrypoint, type HttpDependencies } from './httpEntrypoint';
import { absoluteUrl, json, parseInput, readJsonBody, requesterOf, type HttpInput } from './httpInput';
import type { HttpOutput } from './problems';

/** The optional bodies of the topology PUTs (exported for the OpenAPI document). */
export const PoolBodySchema = z.strictObject({ defaultEndpointSipAddress: SipAddressSchema.optional() }).optional();
export const UserBodySchema = z.strictObject({ displayName: DisplayNameSchema.optional() }).optional();

/**
 * 201 + Location (absolute, on the public base URL) for something new, 200 for no change or a
 * change to something that was there, 204 for a removal; a repeated PUT answers the same body as the first.
 */
function topologyResponse(deps: HttpDependencies, request: HttpInput, result: TopologyChangeResult): HttpOutput {
  if (result.outcome === 'removed') return { status: 204 };
  if (result.outcome === 'created')
    return json(201, result.value, { location: absoluteUrl(deps.publicBaseUrl, new URL(request.url).pathname) });
  return json(200, result.value);
}

/** The default endpoint a pool gets when the PUT body names none: sip:<first label>@<rest of the FQDN>. */
function defaultEndpointFor(fqdn: Fqdn): SipAddress {
  const dot = fqdn.indexOf('.');
  // FQDN labels are valid SIP user characters; a domain that is not supported is the rules' to refuse.
  return `sip:${fqdn.slice(0, dot)}@${fqdn.slice(dot + 1)}` as SipAddress;
}

/** Every role may read the topology. */
const READERS = [Role.reader, Role.submitter, Role.operator, Role.auditor];
/** Only operators change it. */
const OPERATORS = [Role.operator];

/** GET /api/topology: SIP domains, pools with their default endpoints, and directory users. */
export const getTopologyHttp = httpEntrypoint({ roles: READERS }, async (deps: Pick<ServiceDependencies, 'queries'> & HttpDependencies) =>
  json(200, await deps.queries.topology()),
);

/** PUT and DELETE /api/topology/sip-domains/{domain}. */
export const changeSipDomainHttp = httpEntrypoint(
  { roles: OPERATORS },
  async (deps: TopologyDependencies & HttpDependencies, request, principal) => {
    const { domain } = parseInput(z.object({ domain: FqdnSchema }), request.params, 'path');
    const change = request.method === 'DELETE' ? removeSipDomain : addSipDomain;
    return topologyResponse(deps, request, await change(deps, requesterOf(request, principal), domain));
  },
);

/** PUT and DELETE /api/topology/pools/{fqdn}. */
export const changePoolHttp = httpEntrypoint(
  { roles: OPERATORS },
  async (deps: TopologyDependencies & HttpDependencies, request, principal) => {
    const { fqdn } = parseInput(z.object({ fqdn: FqdnSchema }), request.params, 'path');
    if (request.method === 'DELETE') return topologyResponse(deps, request, await retirePool(deps, requesterOf(request, principal), fqdn));
    const body = parseInput(PoolBodySchema, await readJsonBody(request, { optional: true }), 'body');
    return topologyResponse(
      deps,
      request,
      await registerPool(deps, requesterOf(request, principal), fqdn, body?.defaultEndpointSipAddress ?? defaultEndpointFor(fqdn)),
    );
  },
);

/** PUT and DELETE /api/topology/users/{sipAddress}. */
export const changeDirectoryUserHttp = httpEntrypoint(
  { roles: OPERATORS },
  async (deps: TopologyDependencies & HttpDependencies, request, principal) => {
    const { sipAddress } = parseInput(z.object({ sipAddress: SipAddressSchema }), request.params, 'path');
    if (request.method === 'DELETE')
      return topologyResponse(deps, request, await removeDirectoryUser(deps, requesterOf(request, principal), sipAddress));
    const body = parseInput(UserBodySchema, await readJsonBody(request, { optional: true }), 'body');
    return topologyResponse(
      deps,
      request,
      await addDirectoryUser(deps, requesterOf(request, principal), sipAddress, body?.displayName ?? null),
    );
  },
);
