import { z } from 'zod';
import { RejectionCode } from '../../domain/codes';
import { NotFoundError } from '../../domain/errors';
import { DisplayNameSchema } from '../../domain/changeRequest';
import type { Endpoint } from '../../domain/directory';
import { AmbiguousIdentityError } from '../../domain/errors';
import { canonicalSipText, FqdnSchema, SipAddressSchema, type SipAddress } from '../../domain/names';
import { wildcardPatternProblem } from '../../domain/wildcard';
import type { ServiceDependencies } from '../../application/dependencies';
import { Role } from '../../domain/principal';
import { httpEntrypoint, type HttpDependencies } from './httpEntrypoint';
import { fromQuery, json, pageLimit, parseInput, queryObject } from './httpInput';

/** The largest page a listing returns. */
const MAX_PAGE = 1000;

/** A `*` pattern, bounded in length and in wildcards (the limits are domain/wildcard.ts's). */
const PATTERN = z.string({ error: 'must be a string' }).superRefine((value, ctx) => {
  const problem = wildcardPatternProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/**
 * A pool FQDN, or a pattern of one with `*` (pcpool*.contoso.com, *.contoso.com): without `*` it
 * must be a valid FQDN; with one, FQDN characters and the wildcard limits. Lower-cased, as pools are stored.
 */
const POOL_PATTERN = z
  .string({ error: 'must be a string' })
  .trim()
  .toLowerCase()
  .superRefine((value, ctx) => {
    if (!value.includes('*')) {
      const parsed = FqdnSchema.safeParse(value);
      if (!parsed.success) ctx.addIssue({ code: 'custom', message: parsed.error.issues[0]?.message ?? 'must be an FQDN' });
      return;
    }
    const problem =
      wildcardPatternProblem(value) ?? (/^[a-z0-9.*-]+$/.test(value) ? undefined : 'must hold only letters, digits, . - and * wildcards');
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** The query of GET /api/endpoints (exported for the OpenAPI document). */
export const EndpointQuerySchema = z.strictObject({
  /** A pool FQDN, `*` matching any run of characters (pcpool*.contoso.com). */
  poolFqdn: POOL_PATTERN.optional(),
  /** A SIP address, `*` matching any run of characters (sip:*@contoso.com). */
  // Spelled as stored addresses are (canonical escapes); a %2A becomes *, which matches a literal * too.
  sipAddress: PATTERN.transform((value) => canonicalSipText(value.toLowerCase())).optional(),
  /** A display name, `*` matching any run of characters (Legacy*). */
  displayName: PATTERN.optional(),
  limit: pageLimit(MAX_PAGE).default(100),
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

/**
 * How many endpoints one display name may resolve to before the answer stops listing them: an
 * ambiguous name is an error either way, and the query reading them stays bounded.
 */
export const MAX_IDENTITY_MATCHES = 50;

/** `{identity}`: a SIP address when it starts with `sip:` (any case, as -Identity takes it), else a display name. */
export const IdentityParamsSchema = z.object({
  identity: z.union([
    z.string().regex(/^sip:/i).pipe(SipAddressSchema),
    DisplayNameSchema.refine((value) => !/^sip:/i.test(value), 'must be a SIP address (sip:user@domain) or a display name'),
  ]),
});

/** The one endpoint a display name names: 404 for none, 409 listing the addresses when several share it. */
async function endpointNamed(deps: ReadDependencies, displayName: string): Promise<Endpoint> {
  const found = await deps.queries.endpointsNamed(displayName, MAX_IDENTITY_MATCHES);
  const [only] = found;
  if (!only)
    throw new NotFoundError(
      RejectionCode.endpointNotFound,
      `no Persistent Chat endpoint has the display name ${JSON.stringify(displayName)}`,
    );
  if (found.length === 1) return only;
  throw new AmbiguousIdentityError(
    `${found.length === MAX_IDENTITY_MATCHES ? `at least ${found.length}` : found.length} endpoints have the display name ${JSON.stringify(displayName)}; name one by its SIP address`,
    found.map((endpoint) => endpoint.sipAddress),
  );
}

/**
 * GET /api/endpoints/{identity}: one endpoint by SIP address or by display name (as -Identity of
 * Get-CsPersistentChatEndpoint takes either); 404 when none, 409 with `matches` when a display name
 * is shared.
 */
export const getEndpointHttp = httpEntrypoint({ roles: READERS }, async (deps: ReadDependencies, request) => {
  const { identity } = parseInput(IdentityParamsSchema, request.params, 'path');
  if (!/^sip:/i.test(identity)) return json(200, await endpointNamed(deps, identity));
  const sipAddress = identity as SipAddress;
  const holder = await deps.queries.holder(sipAddress);
  if (holder?.kind !== 'endpoint')
    throw new NotFoundError(RejectionCode.endpointNotFound, `no Persistent Chat endpoint has the address ${sipAddress}`);
  return json(200, holder);
});
