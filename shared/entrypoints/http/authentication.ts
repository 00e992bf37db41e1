import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ErrorCode, ForbiddenError, UnauthenticatedError } from '../../domain/errors';
import { holdsAnyRole, principalNameProblem, ROLES, type Principal, type Role } from '../../domain/principal';
import type { HttpInput } from './httpInput';

/**
 * Who is calling, from the request's headers. One Authenticator is built at start from AUTH_MODE
 * (shared/composition/compose.ts) and handed to every HTTP entrypoint, so the same rules hold on the
 * local host and in Azure:
 *
 *   keys      Authorization: Bearer <key>, the keys of LOCAL_API_KEYS; X-MS-CLIENT-PRINCIPAL* ignored.
 *   easyauth  App Service authentication's X-MS-CLIENT-PRINCIPAL (App Service strips a client's copy).
 *   off       everyone is `anonymous` with every role (development only; refused in Azure).
 *
 * Nothing here logs, and no error message quotes a header: they hold credentials.
 */
export interface Authenticator {
  readonly mode: 'keys' | 'easyauth' | 'off';
  /** The WWW-Authenticate value a 401 carries: it tells a client (the review page) how to sign in. */
  readonly challenge: string;
  /** The caller, or UnauthenticatedError naming the header that failed. */
  authenticate(headers: HttpInput['headers']): Principal;
}

/** Where a 401 points: the header that carries (or should carry) the credentials. */
function unauthenticated(header: 'authorization' | 'x-ms-client-principal', detail: string): UnauthenticatedError {
  return new UnauthenticatedError(ErrorCode.unauthenticated, detail, { errors: [{ pointer: `#/${header}`, detail, location: 'header' }] });
}

/** Refuses a principal that holds none of `roles` with 403 naming them; nothing has been read yet. */
export function authorize(principal: Principal, roles: readonly Role[]): void {
  if (holdsAnyRole(principal, roles)) return;
  const needed = roles.length === 1 ? `the ${roles[0]} role` : `one of the roles ${roles.join(', ')}`;
  const held = principal.roles.size ? [...principal.roles].join(', ') : 'none';
  const detail = `this operation needs ${needed}; the caller's roles: ${held}`;
  throw new ForbiddenError(ErrorCode.forbidden, detail, { errors: [{ pointer: '#/authorization', detail, location: 'header' }] });
}

// ---------------------------------------------------------------------------------------------
// keys
// ---------------------------------------------------------------------------------------------

/** A configured key as kept in memory: its SHA-256 digest, never the key itself. */
interface KeyEntry {
  digest: Buffer;
  principal: Principal;
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * The entry whose digest equals `presented`, comparing against every entry in constant time and
 * never stopping early: how long the lookup takes says nothing about which key (or how much of one)
 * matched. Digests have one length, so timingSafeEqual never throws on a length mismatch.
 */
export function findKeyHolder<T extends { digest: Buffer }>(
  entries: readonly T[],
  presented: Buffer,
  equal: (a: Buffer, b: Buffer) => boolean = timingSafeEqual,
): T | undefined {
  let found: T | undefined;
  for (const entry of entries) {
    const matches = equal(entry.digest, presented);
    if (matches && found === undefined) found = entry;
  }
  return found;
}

// RFC 6750 §2.1: the scheme is case-insensitive, then one or more spaces, then the token.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** AUTH_MODE=keys: `Authorization: Bearer <key>` against the configured keys (validated by the settings). */
export function keysAuthenticator(keys: ReadonlyArray<{ principal: string; roles: readonly Role[]; key: string }>): Authenticator {
  const entries: KeyEntry[] = keys.map(({ principal, roles, key }) => ({
    digest: sha256(key),
    principal: { name: principal, roles: new Set(roles) },
  }));
  return {
    mode: 'keys',
    challenge: 'Bearer realm="pchat"',
    authenticate(headers) {
      const authorization = headers.get('authorization');
      if (authorization === null || authorization.trim() === '')
        throw unauthenticated('authorization', 'credentials are required: send Authorization: Bearer <API key>');
      const token = BEARER.exec(authorization)?.[1];
      if (token === undefined) throw unauthenticated('authorization', 'Authorization must be Bearer followed by an API key');
      // Hashing first gives every comparison the same length, whatever the caller sent.
      const holder = findKeyHolder(entries, sha256(token));
      if (!holder) throw unauthenticated('authorization', 'the API key is not valid');
      return holder.principal;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// easyauth
// ---------------------------------------------------------------------------------------------

/** Far above what a token with many group claims makes; the front end's header limits are smaller still. */
const MAX_CLIENT_PRINCIPAL_LENGTH = 64 * 1024;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;

/**
 * The decoded X-MS-CLIENT-PRINCIPAL, as App Service documents it ("Work with user identities in
 * Azure App Service authentication"): {auth_typ, name_typ, role_typ, claims: [{typ, val}]}.
 */
const ClientPrincipalSchema = z.object({
  auth_typ: z.string().optional(),
  name_typ: z.string().optional(),
  role_typ: z.string().optional(),
  claims: z.array(z.object({ typ: z.string(), val: z.unknown() })),
});
type ClientPrincipal = z.infer<typeof ClientPrincipalSchema>;

/** Claim types naming the caller, in order of preference: a user's sign-in name, a service principal's app id, the object id. */
const NAME_CLAIMS = [
  ['preferred_username'],
  ['appid', 'azp'],
  ['http://schemas.microsoft.com/identity/claims/objectidentifier', 'oid'],
] as const;

/** The first string value of a claim of one of `types`. */
function claim(principal: ClientPrincipal, types: readonly string[]): string | undefined {
  for (const type of types) {
    const found = principal.claims.find((c) => c.typ === type && typeof c.val === 'string' && c.val !== '');
    if (found) return found.val as string;
  }
  return undefined;
}

/**
 * The role claim types: role_typ, as documented. With Entra (auth_typ "aad") App Service reports
 * role_typ as the WS-Fed role URI while the app roles arrive as `roles` claims
 * (AzureAD/microsoft-identity-web#1983, Azure/azure-functions-host#3898), so `roles` counts there too.
 */
function roleClaimTypes(principal: ClientPrincipal): Set<string> {
  const types = new Set<string>();
  if (principal.role_typ) types.add(principal.role_typ);
  if (principal.auth_typ === 'aad' || !principal.role_typ) types.add('roles');
  return types;
}

/** The X-MS-CLIENT-PRINCIPAL header's JSON, or UnauthenticatedError saying why it is not usable. */
function decodeClientPrincipal(header: string): ClientPrincipal {
  const bad = (why: string) => unauthenticated('x-ms-client-principal', `X-MS-CLIENT-PRINCIPAL ${why}`);
  if (header.length > MAX_CLIENT_PRINCIPAL_LENGTH) throw bad(`is longer than ${MAX_CLIENT_PRINCIPAL_LENGTH} characters`);
  const text = header.trim();
  if (!BASE64.test(text)) throw bad('is not base64');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(text, 'base64')));
  } catch {
    throw bad('is not base64-encoded UTF-8 JSON');
  }
  const parsed = ClientPrincipalSchema.safeParse(json);
  if (!parsed.success) throw bad('is not a client principal ({auth_typ, name_typ, role_typ, claims: [{typ, val}]})');
  return parsed.data;
}

/** The principal App Service authentication vouches for, from its decoded header. */
export function principalFromClientPrincipal(header: string): Principal {
  const decoded = decodeClientPrincipal(header);
  const name = NAME_CLAIMS.map((types) => claim(decoded, types)).find((value) => value !== undefined);
  if (name === undefined)
    throw unauthenticated('x-ms-client-principal', 'X-MS-CLIENT-PRINCIPAL names no preferred_username, appid, azp or object id');
  const problem = principalNameProblem(name);
  if (problem) throw unauthenticated('x-ms-client-principal', `the principal name ${problem}`);
  const roleTypes = roleClaimTypes(decoded);
  const known = new Set<string>(ROLES);
  const roles = new Set(
    decoded.claims.flatMap((c) => (roleTypes.has(c.typ) && typeof c.val === 'string' && known.has(c.val) ? [c.val as Role] : [])),
  );
  return { name, roles };
}

/** AUTH_MODE=easyauth: App Service authentication signs the caller in and hands over X-MS-CLIENT-PRINCIPAL. */
export function easyAuthAuthenticator(): Authenticator {
  return {
    mode: 'easyauth',
    // authorization_uri (as Entra's own challenges carry it) tells a browser client where to sign in.
    challenge: 'Bearer realm="pchat", authorization_uri="/.auth/login/aad"',
    authenticate(headers) {
      const header = headers.get('x-ms-client-principal');
      if (header === null || header.trim() === '') throw unauthenticated('x-ms-client-principal', 'sign-in is required');
      return principalFromClientPrincipal(header);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// off
// ---------------------------------------------------------------------------------------------

/** The one caller of AUTH_MODE=off. */
export const ANONYMOUS: Principal = { name: 'anonymous', roles: new Set(ROLES) };

/** AUTH_MODE=off: every caller is `anonymous` with every role (development only). */
export function openAuthenticator(): Authenticator {
  return { mode: 'off', challenge: 'Bearer realm="pchat"', authenticate: () => ANONYMOUS };
}
