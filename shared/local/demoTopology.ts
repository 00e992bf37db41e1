import { addDirectoryUser, addSipDomain, registerPool, type TopologyDependencies } from '../application/topology';
import type { ServiceDependencies } from '../application/dependencies';
import { FqdnSchema, SipAddressSchema } from '../domain/names';

/** The actor recorded for the demo topology's audit records. */
export const DEMO_ACTOR = 'local-host:demo-topology';

/**
 * Loads the demo topology (see the README) into an empty directory, through the same audited use cases an
 * administrator would call: domain contoso.com, pools pcpool and pcpool2, and the Lync 2010 Group
 * Chat user sip:ocschat@contoso.com. Returns false when the directory already held something.
 */
export async function loadDemoTopology(deps: TopologyDependencies & Pick<ServiceDependencies, 'queries'>): Promise<boolean> {
  if (!(await deps.queries.isEmpty())) return false;
  const requester = { actor: DEMO_ACTOR, correlationId: deps.ids.next() };
  await addSipDomain(deps, requester, FqdnSchema.parse('contoso.com'));
  await registerPool(deps, requester, FqdnSchema.parse('pcpool.contoso.com'), SipAddressSchema.parse('sip:pcpool@contoso.com'));
  await registerPool(deps, requester, FqdnSchema.parse('pcpool2.contoso.com'), SipAddressSchema.parse('sip:pcpool2@contoso.com'));
  await addDirectoryUser(deps, requester, SipAddressSchema.parse('sip:ocschat@contoso.com'), 'Lync 2010 Group Chat (well-known user)');
  return true;
}
