import { failureOf, type ParameterNames } from './api';
import type { Context } from './context';
import { ExitCode } from './exit';
import { block, show, table } from './output';

/** The field names of the topology routes, as this command line spells them. */
const NAMES: ParameterNames = {
  domain: '<domain>',
  fqdn: '<fqdn>',
  sipAddress: '<sip-address>',
  defaultEndpointSipAddress: '--default-endpoint',
  displayName: '--display-name',
};

/** `pchat topology get`: SIP domains, pools and directory users. */
export async function getTopology(context: Context): Promise<ExitCode> {
  const answer = await context.api.call('GET', '/topology');
  if (answer.status !== 200) throw failureOf(answer, NAMES);
  const topology = answer.body as {
    sipDomains: Array<{ name: string }>;
    pools: Array<{ fqdn: string; defaultEndpointSipAddress: string; adminEndpointSipAddress: string | null }>;
    users: Array<{ sipAddress: string; displayName: string | null }>;
  };
  show(context.output, topology, () =>
    [
      'SIP domains',
      table(topology.sipDomains, [['Name', (d: { name: string }) => d.name]]),
      '',
      'Persistent Chat pools',
      table(topology.pools, [
        ['Fqdn', (p: (typeof topology.pools)[number]) => p.fqdn],
        ['DefaultEndpoint', (p: (typeof topology.pools)[number]) => p.defaultEndpointSipAddress],
        ['Endpoint', (p: (typeof topology.pools)[number]) => p.adminEndpointSipAddress],
      ]),
      '',
      'Directory users',
      table(topology.users, [
        ['SipAddress', (u: (typeof topology.users)[number]) => u.sipAddress],
        ['DisplayName', (u: (typeof topology.users)[number]) => u.displayName],
      ]),
    ].join('\n'),
  );
  return ExitCode.done;
}

/** The kinds of topology object and their routes. */
export const TOPOLOGY_KINDS = {
  'sip-domain': 'sip-domains',
  pool: 'pools',
  user: 'users',
} as const;
export type TopologyKind = keyof typeof TOPOLOGY_KINDS;

/**
 * PUT (add) or DELETE (remove) one topology object: 0 when it is there (201 created, 200 already so)
 * or gone (204); 1 when a rule refuses (409, the code printed).
 */
export async function changeTopology(
  context: Context,
  kind: TopologyKind,
  change: 'add' | 'remove',
  name: string,
  body?: Record<string, string>,
): Promise<ExitCode> {
  const path = `/topology/${TOPOLOGY_KINDS[kind]}/${encodeURIComponent(name)}`;
  const answer = await context.api.call(change === 'add' ? 'PUT' : 'DELETE', path, {}, change === 'add' ? body : undefined);
  if (answer.status !== 200 && answer.status !== 201 && answer.status !== 204) throw failureOf(answer, NAMES);
  if (answer.status === 204) {
    show(context.output, { removed: name }, () => `removed ${kind} ${name}`);
    return ExitCode.done;
  }
  const value = answer.body as Record<string, unknown>;
  show(context.output, value, () =>
    [`${answer.status === 201 ? 'added' : 'unchanged'} ${kind} ${name}`, block(Object.entries(value))].join('\n'),
  );
  return ExitCode.done;
}
