import type { Fqdn, SipAddress } from '../../shared/domain/names';
import { fqdn, sip, uniqueLabel } from './builders';
import { drainQueue, eventually, type ApiCall, type E2EEnvironment } from './localHost';

/**
 * Test data made through the HTTP API, for the end-to-end tests: each test puts up its own SIP
 * domain, pools and users and follows its own correlation ids, so it can run alone and sees no
 * other test's records. The request bodies are the domain builders (`aCreateRequest` and friends).
 */

/** A SIP domain no other test uses (and nothing has registered): `t<unique>.contoso.test`. */
export const aUniqueDomain = (): Fqdn => fqdn(`${uniqueLabel('t')}.contoso.test`);

/** A correlation id (X-Correlation-Id) no other test uses. */
export const aCorrelationId = (): string => uniqueLabel('ticket-');

/** The path segment for a SIP address (`/endpoints/{sipAddress}`, `/topology/users/{sipAddress}`). */
export const pathOf = (address: string): string => encodeURIComponent(address);

/** What `aTopology` put up, all of it in the test's own SIP domain. */
export interface Topology {
  domain: Fqdn;
  /** The pools `pc1.<domain>`, `pc2.<domain>`, … */
  pools: Fqdn[];
  /** Each pool's default endpoint: `sip:pc1@<domain>`, … */
  defaultEndpoints: SipAddress[];
  /** The directory users (Lync 2010 Group Chat users, say), `sip:<name>@<domain>`. */
  users: SipAddress[];
  /** The correlation id the topology was put up under. */
  correlationId: string;
  /** An address in the domain, `sip:<user>@<domain>` (held by nothing unless the test makes it so). */
  address(user: string): SipAddress;
  /** The n-th pool, from 0. */
  pool(n?: number): Fqdn;
  /** The n-th pool's default endpoint, from 0. */
  defaultEndpoint(n?: number): SipAddress;
}

/** What a test needs: how many pools, and the user names of its directory users. */
export interface TopologyOptions {
  pools?: number;
  users?: string[];
}

function nth<T>(items: T[], n: number, what: string): T {
  const item = items[n];
  if (item === undefined) throw new Error(`the topology has no ${what} ${n} (it has ${items.length})`);
  return item;
}

/**
 * Puts up a fresh SIP domain with its pools and directory users through the topology API (each
 * PUT must answer 201) and returns their names.
 */
export async function aTopology(call: ApiCall, { pools = 1, users = [] }: TopologyOptions = {}): Promise<Topology> {
  const domain = aUniqueDomain();
  const correlationId = aCorrelationId();
  const address = (user: string) => sip(`sip:${user}@${domain}`);
  const put = async (path: string, body?: unknown) => {
    const response = await call('PUT', path, body, { 'x-correlation-id': correlationId });
    if (response.status !== 201) throw new Error(`PUT ${path} answered ${response.status}: ${JSON.stringify(response.body)}`);
  };

  await put(`/topology/sip-domains/${domain}`);
  const poolNames = Array.from({ length: pools }, (_, i) => fqdn(`pc${i + 1}.${domain}`));
  const defaultEndpoints = poolNames.map((_, i) => address(`pc${i + 1}`));
  for (const [i, pool] of poolNames.entries()) await put(`/topology/pools/${pool}`, { defaultEndpointSipAddress: defaultEndpoints[i] });
  const userAddresses = users.map(address);
  for (const user of userAddresses) await put(`/topology/users/${pathOf(user)}`, { displayName: 'Lync 2010 Group Chat' });

  return {
    domain,
    pools: poolNames,
    defaultEndpoints,
    users: userAddresses,
    correlationId,
    address,
    pool: (n = 0) => nth(poolNames, n, 'pool'),
    defaultEndpoint: (n = 0) => nth(defaultEndpoints, n, 'default endpoint'),
  };
}

/** POSTs a change request, expects 202 and polls it until it leaves `accepted`; resolves with the settled request. */
export async function submitAndSettle(
  call: ApiCall,
  body: unknown,
  headers: Record<string, string> = {},
  timeoutMs?: number,
): Promise<Record<string, any>> {
  const accepted = await call('POST', '/change-requests', body, headers);
  if (accepted.status !== 202) throw new Error(`POST /change-requests answered ${accepted.status}: ${JSON.stringify(accepted.body)}`);
  return settledRequest(call, accepted.body.id, timeoutMs);
}

/** Polls a change request until it leaves `accepted`. */
export function settledRequest(call: ApiCall, id: string, timeoutMs = 15_000): Promise<Record<string, any>> {
  return eventually(async () => {
    const { body } = await call('GET', `/change-requests/${id}`);
    return body.status === 'accepted' ? undefined : (body as Record<string, any>);
  }, timeoutMs);
}

/** The audit records about a subject (a SIP address, or `pool:<fqdn>`, `sip-domain:<name>`), newest first. */
export async function auditFor(call: ApiCall, subject: string): Promise<Array<Record<string, any>>> {
  return (await call('GET', `/audit?subject=${encodeURIComponent(subject)}&limit=1000`)).body.items;
}

/** The audit records under a correlation id, newest first. */
export async function auditUnder(call: ApiCall, correlationId: string): Promise<Array<Record<string, any>>> {
  return (await call('GET', `/audit?correlation=${encodeURIComponent(correlationId)}&limit=1000`)).body.items;
}

/**
 * The events on audit-events about `subject`, oldest first, once the outbox is empty (so every
 * committed event is out). Drains the queue: events about other subjects are dropped.
 */
export async function publishedEventsAbout(env: E2EEnvironment, subject: string): Promise<any[]> {
  await eventually(async () => ((await env.dependencies.outbox.pending(1)).length === 0 ? true : undefined));
  return (await drainQueue(env.queues, 'audit-events')).filter((event) => event.subject === subject);
}
