import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuditAction } from '../../../shared/domain/audit';
import { TopologyCode } from '../../../shared/domain/codes';
import { appliedOf, rejectionOf } from '../../support/decisions';
import {
  decideAddDomain,
  decideAddUser,
  decideRegisterPool,
  decideRemoveDomain,
  decideRemoveUser,
  decideRetirePool,
} from '../../../shared/domain/topologyRules';
import { aPool, aUser, aView, anEndpoint, EARLIER, fqdn, sip } from '../../support/builders';

const NOW = '2024-05-01T10:00:00.000Z';
const ocschat = aUser();

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
    assert.deepEqual(rejectionOf(decideRemoveDomain(fqdn('fabrikam.com'), aView())), {
      code: TopologyCode.sipDomainNotFound,
      pointer: '/domain',
    });
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
      {
        type: 'putHolder',
        holder: {
          kind: 'endpoint',
          sipAddress: newDefault,
          poolFqdn: newPool,
          displayName: null,
          isDefault: true,
          createdAt: NOW,
          changeRequestId: null,
        },
      },
    ]);
  });

  it('is unchanged when the pool is registered with the same default endpoint, answering what a registration answers', () => {
    const pool = aPool();

    assert.deepEqual(decideRegisterPool(pool.fqdn, pool.defaultEndpointSipAddress, aView({ pools: [pool] }), NOW), {
      outcome: 'unchanged',
      current: { pool, defaultEndpoint: null },
    });
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
    assert.deepEqual(rejectionOf(decideRetirePool(fqdn('nopool.contoso.com'), aView())), {
      code: TopologyCode.poolNotFound,
      pointer: '/fqdn',
    });
  });

  it(`rejects with ${TopologyCode.poolHasEndpoint} when an admin endpoint points at the pool`, () => {
    const view = aView({ pools: [aPool({ adminEndpointSipAddress: sip('sip:chat@contoso.com') })], holders: [anEndpoint()] });

    assert.deepEqual(rejectionOf(decideRetirePool(fqdn('pcpool.contoso.com'), view)), {
      code: TopologyCode.poolHasEndpoint,
      pointer: '/fqdn',
    });
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
