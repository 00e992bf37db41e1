import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuditAction } from '../../../shared/domain/audit';
import { RejectionCode, type CreateEndpointRequest } from '../../../shared/domain/changeRequest';
import type { AddressHolder, DirectoryUser, DirectoryView, DirectoryWrite, Endpoint, PersistentChatPool } from '../../../shared/domain/directory';
import type { Fqdn, SipAddress } from '../../../shared/domain/names';
import {
  decideAddDomain, decideAddUser, decideCreate, decideDelete, decideRegisterPool, decideRemoveDomain, decideRemoveUser,
  decideRetirePool, TopologyCode, type Decision,
} from '../../../shared/domain/rules';

const NOW = '2024-05-01T10:00:00.000Z';
const EARLIER = '2024-01-01T00:00:00.000Z';
const CONTEXT = { now: NOW, changeRequestId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b' };

const sip = (value: string) => value as SipAddress;
const fqdn = (value: string) => value as Fqdn;

function aPool(overrides: Partial<PersistentChatPool> = {}): PersistentChatPool {
  return { fqdn: fqdn('pcpool.contoso.com'), defaultEndpointSipAddress: sip('sip:pcdefault@contoso.com'), adminEndpointSipAddress: null, registeredAt: EARLIER, ...overrides };
}

function anEndpoint(overrides: Partial<Endpoint> = {}): Endpoint {
  return { kind: 'endpoint', sipAddress: sip('sip:chat@contoso.com'), poolFqdn: fqdn('pcpool.contoso.com'), displayName: null, isDefault: false, createdAt: EARLIER, changeRequestId: 'cr-1', ...overrides };
}

const ocschat: DirectoryUser = { kind: 'user', sipAddress: sip('sip:ocschat@contoso.com'), displayName: 'Group Chat', addedAt: EARLIER };

/** A directory view over plain lists; domainsInUse defaults to the domains of the holders. */
function aView({ domains = ['contoso.com'], pools = [aPool()], holders = [], domainsInUse }: {
  domains?: string[]; pools?: PersistentChatPool[]; holders?: AddressHolder[]; domainsInUse?: string[];
} = {}): DirectoryView {
  const inUse = domainsInUse ?? holders.map((h) => h.sipAddress.slice(h.sipAddress.lastIndexOf('@') + 1));
  return {
    domain: (name) => (domains.includes(name) ? { name, addedAt: EARLIER } : undefined),
    pool: (name) => pools.find((p) => p.fqdn === name),
    holder: (address) => holders.find((h) => h.sipAddress === address),
    domainInUse: (name) => inUse.includes(name),
  };
}

function aCreate(overrides: Partial<CreateEndpointRequest> = {}): CreateEndpointRequest {
  return { operation: 'create', sipAddress: sip('sip:chat@contoso.com'), poolFqdn: fqdn('pcpool.contoso.com'), ...overrides };
}

function rejectionOf(decision: Decision): { code: string; pointer: string } {
  if (decision.outcome !== 'rejected') assert.fail(`expected a rejection, got ${JSON.stringify(decision)}`);
  return { code: decision.code, pointer: decision.pointer };
}

function appliedOf(decision: Decision) {
  if (decision.outcome !== 'applied') assert.fail(`expected applied, got ${JSON.stringify(decision)}`);
  return decision;
}

describe('decideCreate', () => {
  const rejections: { name: string; request: CreateEndpointRequest; view: DirectoryView; code: string; pointer: string }[] = [
    { name: 'the SIP domain is not supported', request: aCreate({ sipAddress: sip('sip:chat@fabrikam.com') }), view: aView(),
      code: RejectionCode.sipDomainNotSupported, pointer: '/sipAddress' },
    { name: 'the pool is not registered', request: aCreate({ poolFqdn: fqdn('nopool.contoso.com') }), view: aView(),
      code: RejectionCode.poolNotFound, pointer: '/poolFqdn' },
    { name: 'another endpoint holds the address', request: aCreate(), view: aView({ holders: [anEndpoint({ poolFqdn: fqdn('pcpool2.contoso.com') })] }),
      code: RejectionCode.sipAddressHeldByEndpoint, pointer: '/sipAddress' },
    { name: 'the address is the pool default endpoint', request: aCreate({ sipAddress: sip('sip:pcdefault@contoso.com') }),
      view: aView({ holders: [anEndpoint({ sipAddress: sip('sip:pcdefault@contoso.com'), isDefault: true })] }),
      code: RejectionCode.sipAddressHeldByEndpoint, pointer: '/sipAddress' },
    { name: 'replaceLegacyUser names an endpoint-held address', request: aCreate({ replaceLegacyUser: true }), view: aView({ holders: [anEndpoint()] }),
      code: RejectionCode.sipAddressHeldByEndpoint, pointer: '/sipAddress' },
    { name: 'a user holds the address without replaceLegacyUser', request: aCreate({ sipAddress: ocschat.sipAddress }), view: aView({ holders: [ocschat] }),
      code: RejectionCode.sipAddressHeldByUser, pointer: '/sipAddress' },
    { name: 'replaceLegacyUser is false and a user holds the address', request: aCreate({ sipAddress: ocschat.sipAddress, replaceLegacyUser: false }),
      view: aView({ holders: [ocschat] }), code: RejectionCode.sipAddressHeldByUser, pointer: '/sipAddress' },
    { name: 'replaceLegacyUser is set but no user holds the address', request: aCreate({ replaceLegacyUser: true }), view: aView(),
      code: RejectionCode.legacyUserNotFound, pointer: '/replaceLegacyUser' },
    { name: 'the pool already has an admin endpoint', request: aCreate(),
      view: aView({ pools: [aPool({ adminEndpointSipAddress: sip('sip:other@contoso.com') })] }), code: RejectionCode.poolHasEndpoint, pointer: '/poolFqdn' },
  ];
  for (const { name, request, view, code, pointer } of rejections) {
    it(`rejects with ${code} when ${name}`, () => {
      const decision = decideCreate(request, view, CONTEXT);

      assert.deepEqual(rejectionOf(decision), { code, pointer });
    });
  }

  it('writes the endpoint and sets the pool admin endpoint when the address is free', () => {
    const view = aView();

    const decision = appliedOf(decideCreate(aCreate({ displayName: 'Chat' }), view, CONTEXT));

    const endpoint: Endpoint = {
      kind: 'endpoint', sipAddress: sip('sip:chat@contoso.com'), poolFqdn: fqdn('pcpool.contoso.com'), displayName: 'Chat',
      isDefault: false, createdAt: NOW, changeRequestId: CONTEXT.changeRequestId,
    };
    assert.deepEqual(decision, {
      outcome: 'applied',
      action: AuditAction.endpointCreated,
      subject: 'sip:chat@contoso.com',
      writes: [{ type: 'putHolder', holder: endpoint }, { type: 'putPool', pool: aPool({ adminEndpointSipAddress: sip('sip:chat@contoso.com') }) }],
      before: null,
      after: endpoint,
    });
  });

  it('replaces the legacy user with one putHolder on the same address when replaceLegacyUser names it', () => {
    const view = aView({ holders: [ocschat] });

    const decision = appliedOf(decideCreate(aCreate({ sipAddress: ocschat.sipAddress, replaceLegacyUser: true }), view, CONTEXT));

    const holderWrites = decision.writes.filter((w): w is Extract<DirectoryWrite, { type: 'putHolder' }> => w.type === 'putHolder');
    assert.equal(holderWrites.length, 1);
    assert.equal(holderWrites[0]?.holder.sipAddress, ocschat.sipAddress);
    assert.equal(holderWrites[0]?.holder.kind, 'endpoint');
    assert.equal(decision.writes.some((w) => w.type === 'removeHolder'), false);
    assert.deepEqual(decision.before, ocschat);
    assert.deepEqual(decision.writes.find((w) => w.type === 'putPool'),
      { type: 'putPool', pool: aPool({ adminEndpointSipAddress: ocschat.sipAddress }) });
  });
});

describe('decideDelete', () => {
  it(`rejects with ${RejectionCode.endpointNotFound} when nothing holds the address`, () => {
    const decision = decideDelete({ operation: 'delete', sipAddress: sip('sip:chat@contoso.com') }, aView());

    assert.deepEqual(rejectionOf(decision), { code: RejectionCode.endpointNotFound, pointer: '/sipAddress' });
  });

  it(`rejects with ${RejectionCode.endpointNotFound} when a directory user holds the address`, () => {
    const decision = decideDelete({ operation: 'delete', sipAddress: ocschat.sipAddress }, aView({ holders: [ocschat] }));

    assert.deepEqual(rejectionOf(decision), { code: RejectionCode.endpointNotFound, pointer: '/sipAddress' });
  });

  it(`rejects with ${RejectionCode.defaultEndpointProtected} when the address is a default endpoint`, () => {
    const defaultEndpoint = anEndpoint({ sipAddress: sip('sip:pcdefault@contoso.com'), isDefault: true, changeRequestId: null });

    const decision = decideDelete({ operation: 'delete', sipAddress: defaultEndpoint.sipAddress }, aView({ holders: [defaultEndpoint] }));

    assert.deepEqual(rejectionOf(decision), { code: RejectionCode.defaultEndpointProtected, pointer: '/sipAddress' });
  });

  it('removes the endpoint and clears the pool admin endpoint when the endpoint exists', () => {
    const endpoint = anEndpoint();
    const pool = aPool({ adminEndpointSipAddress: endpoint.sipAddress });

    const decision = appliedOf(decideDelete({ operation: 'delete', sipAddress: endpoint.sipAddress }, aView({ pools: [pool], holders: [endpoint] })));

    assert.equal(decision.action, AuditAction.endpointDeleted);
    assert.deepEqual(decision.writes, [
      { type: 'removeHolder', sipAddress: endpoint.sipAddress },
      { type: 'putPool', pool: { ...pool, adminEndpointSipAddress: null } },
    ]);
    assert.deepEqual(decision.before, endpoint);
    assert.equal(decision.after, null);
  });
});

describe('decideAddDomain', () => {
  it('is unchanged when the domain is already supported', () => {
    const decision = decideAddDomain(fqdn('contoso.com'), aView(), NOW);

    assert.deepEqual(decision, { outcome: 'unchanged', current: { name: 'contoso.com', addedAt: EARLIER } });
  });

  it('writes the domain when it is new', () => {
    const decision = appliedOf(decideAddDomain(fqdn('fabrikam.com'), aView(), NOW));

    assert.deepEqual(decision.writes, [{ type: 'putDomain', domain: { name: 'fabrikam.com', addedAt: NOW } }]);
    assert.equal(decision.subject, 'sip-domain:fabrikam.com');
  });
});

describe('decideRemoveDomain', () => {
  it(`rejects with ${TopologyCode.sipDomainNotFound} when the domain is not supported`, () => {
    assert.deepEqual(rejectionOf(decideRemoveDomain(fqdn('fabrikam.com'), aView())), { code: TopologyCode.sipDomainNotFound, pointer: '/domain' });
  });

  it(`rejects with ${TopologyCode.sipDomainInUse} when an address uses the domain`, () => {
    const view = aView({ domainsInUse: ['contoso.com'] });

    assert.deepEqual(rejectionOf(decideRemoveDomain(fqdn('contoso.com'), view)), { code: TopologyCode.sipDomainInUse, pointer: '/domain' });
  });

  it('removes the domain when nothing uses it', () => {
    const decision = appliedOf(decideRemoveDomain(fqdn('contoso.com'), aView()));

    assert.deepEqual(decision.writes, [{ type: 'removeDomain', name: 'contoso.com' }]);
  });
});

describe('decideRegisterPool', () => {
  const newPool = fqdn('pcpool2.contoso.com');
  const newDefault = sip('sip:pcdefault2@contoso.com');

  it('creates the pool and its default endpoint when the pool is new', () => {
    const decision = appliedOf(decideRegisterPool(newPool, newDefault, aView(), NOW));

    assert.equal(decision.action, AuditAction.poolRegistered);
    assert.deepEqual(decision.writes, [
      { type: 'putPool', pool: { fqdn: newPool, defaultEndpointSipAddress: newDefault, adminEndpointSipAddress: null, registeredAt: NOW } },
      { type: 'putHolder', holder: { kind: 'endpoint', sipAddress: newDefault, poolFqdn: newPool, displayName: null, isDefault: true, createdAt: NOW, changeRequestId: null } },
    ]);
  });

  it('is unchanged when the pool is registered with the same default endpoint', () => {
    const pool = aPool();

    assert.deepEqual(decideRegisterPool(pool.fqdn, pool.defaultEndpointSipAddress, aView({ pools: [pool] }), NOW), { outcome: 'unchanged', current: pool });
  });

  it(`rejects with ${TopologyCode.poolConflict} when the pool is registered with another default endpoint`, () => {
    const decision = decideRegisterPool(fqdn('pcpool.contoso.com'), newDefault, aView(), NOW);

    assert.deepEqual(rejectionOf(decision), { code: TopologyCode.poolConflict, pointer: '/defaultEndpointSipAddress' });
  });

  it(`rejects with ${TopologyCode.sipDomainNotSupported} when the default endpoint domain is not supported`, () => {
    const decision = decideRegisterPool(newPool, sip('sip:pcdefault2@fabrikam.com'), aView(), NOW);

    assert.deepEqual(rejectionOf(decision), { code: TopologyCode.sipDomainNotSupported, pointer: '/defaultEndpointSipAddress' });
  });

  it(`rejects with ${TopologyCode.sipAddressInUse} when the default endpoint address is held`, () => {
    const decision = decideRegisterPool(newPool, ocschat.sipAddress, aView({ holders: [ocschat] }), NOW);

    assert.deepEqual(rejectionOf(decision), { code: TopologyCode.sipAddressInUse, pointer: '/defaultEndpointSipAddress' });
  });
});

describe('decideRetirePool', () => {
  it(`rejects with ${TopologyCode.poolNotFound} when the pool is not registered`, () => {
    assert.deepEqual(rejectionOf(decideRetirePool(fqdn('nopool.contoso.com'), aView())), { code: TopologyCode.poolNotFound, pointer: '/fqdn' });
  });

  it(`rejects with ${TopologyCode.poolHasEndpoint} when an admin endpoint points at the pool`, () => {
    const view = aView({ pools: [aPool({ adminEndpointSipAddress: sip('sip:chat@contoso.com') })], holders: [anEndpoint()] });

    assert.deepEqual(rejectionOf(decideRetirePool(fqdn('pcpool.contoso.com'), view)), { code: TopologyCode.poolHasEndpoint, pointer: '/fqdn' });
  });

  it('removes the pool and its default endpoint when no admin endpoint remains', () => {
    const defaultEndpoint = anEndpoint({ sipAddress: sip('sip:pcdefault@contoso.com'), isDefault: true, changeRequestId: null });

    const decision = appliedOf(decideRetirePool(fqdn('pcpool.contoso.com'), aView({ holders: [defaultEndpoint] })));

    assert.deepEqual(decision.writes, [
      { type: 'removePool', fqdn: 'pcpool.contoso.com' },
      { type: 'removeHolder', sipAddress: 'sip:pcdefault@contoso.com' },
    ]);
  });
});

describe('decideAddUser', () => {
  it(`rejects with ${TopologyCode.sipDomainNotSupported} when the domain is not supported`, () => {
    const decision = decideAddUser(sip('sip:ocschat@fabrikam.com'), null, aView(), NOW);

    assert.deepEqual(rejectionOf(decision), { code: TopologyCode.sipDomainNotSupported, pointer: '/sipAddress' });
  });

  it(`rejects with ${TopologyCode.sipAddressInUse} when an endpoint holds the address`, () => {
    const decision = decideAddUser(sip('sip:chat@contoso.com'), null, aView({ holders: [anEndpoint()] }), NOW);

    assert.deepEqual(rejectionOf(decision), { code: TopologyCode.sipAddressInUse, pointer: '/sipAddress' });
  });

  it('is unchanged when the same user already holds the address', () => {
    const decision = decideAddUser(ocschat.sipAddress, ocschat.displayName, aView({ holders: [ocschat] }), NOW);

    assert.deepEqual(decision, { outcome: 'unchanged', current: ocschat });
  });

  it('writes the user when the address is free', () => {
    const decision = appliedOf(decideAddUser(ocschat.sipAddress, 'Group Chat', aView(), NOW));

    assert.deepEqual(decision.writes, [{ type: 'putHolder', holder: { ...ocschat, addedAt: NOW } }]);
  });
});

describe('decideRemoveUser', () => {
  it(`rejects with ${TopologyCode.userNotFound} when an endpoint holds the address`, () => {
    const decision = decideRemoveUser(sip('sip:chat@contoso.com'), aView({ holders: [anEndpoint()] }));

    assert.deepEqual(rejectionOf(decision), { code: TopologyCode.userNotFound, pointer: '/sipAddress' });
  });

  it('removes the user when a user holds the address', () => {
    const decision = appliedOf(decideRemoveUser(ocschat.sipAddress, aView({ holders: [ocschat] })));

    assert.deepEqual(decision.writes, [{ type: 'removeHolder', sipAddress: ocschat.sipAddress }]);
    assert.deepEqual(decision.before, ocschat);
  });
});
