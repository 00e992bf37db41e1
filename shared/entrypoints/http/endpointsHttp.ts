import { z } from 'zod';
import { RejectionCode } from '../../domain/codes';
import { NotFoundError } from '../../domain/errors';
import { canonicalSipText, FqdnSchema, SipAddressSchema } from '../../domain/names';
import { wildcardPatternProblem } from '../../domain/wildcard';
import type { ServiceDependencies } from '../../application/dependencies';
import { Role } from '../../domain/principal';
import { httpEntrypoint, type HttpDependencies } from './httpEntrypoint';
import { fromQuery, json, parseInput, queryObject } from './httpInput';

/** The largest page a listing returns. */
const MAX_PAGE = 1000;

/** A `*` pattern, bounded in length and in wildcards (the limits are domain/wildcard.ts's). */
const PATTERN = z.string({ error: 'must be a string' }).superRefine((value, ctx) => {
  const problem = wildcardPatternProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** The query of GET /api/endpoints (exported for the OpenAPI document). */
export const EndpointQuerySchema = z.strictObject({
  poolFqdn: FqdnSchema.optional(),
  /** A SIP address, `*` matching any run of characters (sip:*@contoso.com). */
  // Spelled as stored addresses are (canonical escapes); a %2A becomes *, which matches a literal * too.
  sipAddress: PATTERN.transform((value) => canonicalSipText(value.toLowerCase())).optional(),
  /** A display name, `*` matching any run of characters (Legacy*). */
  displayName: PATTERN.optional(),
  limit: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(MAX_PAGE, `must be at most ${MAX_PAGE}`)
    .default(100),
  cursor: z.string().min(1).max(1024).optional(),
});

/** What reading endpoints needs. */
type ReadDependencies = Pick<ServiceDependencies, 'queries'> & HttpDependencies;

/** Every role may read endpoints. */
const READERS = [Role.reader, Role.submitter, Role.operator, Role.auditor];

/** GET /api/endpoints: endpoints (default and admin-created), filtered and paged. */
export const listEndpointsHttp = httpEntrypoint({ roles: READERS }, async (deps: ReadDependencies, request) => {
  const filter = parseInput(EndpointQuerySchema, queryObject(request), 'query');
  return json(200, await fromQuery(deps.queries.endpoints(filter)));
});

/** GET /api/endpoints/{sipAddress}: one endpoint, 404 if the address is not an endpoint. */
export const getEndpointHttp = httpEntrypoint({ roles: READERS }, async (deps: ReadDependencies, request) => {
  const { sipAddress } = parseInput(z.object({ sipAddress: SipAddressSchema }), request.params, 'path');
  const holder = await deps.queries.holder(sipAddress);
  if (holder?.kind !== 'endpoint')
    throw new NotFoundError(RejectionCode.endpointNotFound, `no Persistent Chat endpoint has the address ${sipAddress}`);
  return json(200, holder);
});
