import { z } from 'zod';
import { DisplayNameSchema } from '../domain/changeRequest';
import { NotFoundError } from '../domain/errors';
import { FqdnSchema, SipAddressSchema, type Fqdn, type SipAddress } from '../domain/names';
import {
  addDirectoryUser, addSipDomain, registerPool, removeDirectoryUser, removeSipDomain, retirePool, type TopologyChangeResult,
} from '../application/topology';
import { actorOf, correlationIdOf, handleHttp, json, parseInput, queryObject, readJsonBody, type HttpInput } from './http';
import type { HttpOutput } from './problems';

const MAX_PAGE = 1000;

const PATTERN = z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters');

const EndpointQuerySchema = z.strictObject({
  poolFqdn: FqdnSchema.optional(),
  /** A SIP address, `*` matching any run of characters (sip:*@contoso.com). */
  sipAddress: PATTERN.transform((value) => value.toLowerCase()).optional(),
  /** A display name, `*` matching any run of characters (Legacy*). */
  displayName: PATTERN.optional(),
  limit: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(MAX_PAGE, `must be at most ${MAX_PAGE}`).default(100),
  cursor: z.string().min(1).max(1024).optional(),
});

/** GET /api/endpoints: endpoints (default and admin-created), filtered and paged. */
export function listEndpointsHttp(request: HttpInput): Promise<HttpOutput> {
  return handleHttp(request, async (deps) => {
    const filter = parseInput(EndpointQuerySchema, queryObject(request), 'query');
    const page = await deps.store.listEndpoints(filter);
    return json(200, page);
  });
}

/** GET /api/endpoints/{sipAddress}: one endpoint, 404 if the address is not an endpoint. */
export function getEndpointHttp(request: HttpInput): Promise<HttpOutput> {
  return handleHttp(request, async (deps) => {
    const { sipAddress } = parseInput(z.object({ sipAddress: SipAddressSchema }), request.params, 'path');
    const holder = await deps.store.getHolder(sipAddress);
    if (holder?.kind !== 'endpoint') throw new NotFoundError('endpoint_not_found', `no Persistent Chat endpoint has the address ${sipAddress}`);
    return json(200, holder);
  });
}

/** GET /api/topology: SIP domains, pools with their default endpoints, and directory users. */
export function getTopologyHttp(request: HttpInput): Promise<HttpOutput> {
  return handleHttp(request, async (deps) => json(200, await deps.store.topology()));
}

function topologyResponse(request: HttpInput, result: TopologyChangeResult): HttpOutput {
  if (result.outcome === 'removed') return { status: 204 };
  const status = result.outcome === 'created' ? 201 : 200;
  return json(status, result.value, status === 201 ? { location: new URL(request.url).pathname } : {});
}

const requesterOf = (request: HttpInput) => ({ actor: actorOf(request), correlationId: correlationIdOf(request) });

/** The default endpoint a pool gets when the PUT body names none: sip:<first label>@<rest of the FQDN>. */
function defaultEndpointFor(fqdn: Fqdn): SipAddress {
  const dot = fqdn.indexOf('.');
  return `sip:${fqdn.slice(0, dot)}@${fqdn.slice(dot + 1)}` as SipAddress;
}

/** PUT and DELETE /api/topology/sip-domains/{domain}. */
export function changeSipDomainHttp(request: HttpInput): Promise<HttpOutput> {
  return handleHttp(request, async (deps) => {
    const { domain } = parseInput(z.object({ domain: FqdnSchema }), request.params, 'path');
    const result = request.method === 'DELETE'
      ? await removeSipDomain(deps, requesterOf(request), domain)
      : await addSipDomain(deps, requesterOf(request), domain);
    return topologyResponse(request, result);
  });
}

const PoolBodySchema = z.strictObject({ defaultEndpointSipAddress: SipAddressSchema.optional() }).optional();

/** PUT and DELETE /api/topology/pools/{fqdn}. */
export function changePoolHttp(request: HttpInput): Promise<HttpOutput> {
  return handleHttp(request, async (deps) => {
    const { fqdn } = parseInput(z.object({ fqdn: FqdnSchema }), request.params, 'path');
    if (request.method === 'DELETE') return topologyResponse(request, await retirePool(deps, requesterOf(request), fqdn));
    const body = parseInput(PoolBodySchema, await readJsonBody(request, { optional: true }), 'body');
    const defaultEndpoint = body?.defaultEndpointSipAddress ?? defaultEndpointFor(fqdn);
    return topologyResponse(request, await registerPool(deps, requesterOf(request), fqdn, defaultEndpoint));
  });
}

const UserBodySchema = z.strictObject({ displayName: DisplayNameSchema.optional() }).optional();

/** PUT and DELETE /api/topology/users/{sipAddress}. */
export function changeDirectoryUserHttp(request: HttpInput): Promise<HttpOutput> {
  return handleHttp(request, async (deps) => {
    const { sipAddress } = parseInput(z.object({ sipAddress: SipAddressSchema }), request.params, 'path');
    if (request.method === 'DELETE') return topologyResponse(request, await removeDirectoryUser(deps, requesterOf(request), sipAddress));
    const body = parseInput(UserBodySchema, await readJsonBody(request, { optional: true }), 'body');
    return topologyResponse(request, await addDirectoryUser(deps, requesterOf(request), sipAddress, body?.displayName ?? null));
  });
}
