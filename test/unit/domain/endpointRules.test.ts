import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuditAction } from '../../../shared/domain/audit';
import { RejectionCode } from '../../../shared/domain/codes';
import { appliedOf, rejectionOf } from '../../support/decisions';
import type { CreateEndpointRequest } from '../../../shared/domain/changeRequest';
import type { DirectoryView, DirectoryWrite, Endpoint } from '../../../shared/domain/directory';
import { decideCreate, decideDelete } from '../../../shared/domain/endpointRules';
import { aCreateRequest as aCreate, aPool, aUser, aView, anEndpoint, fqdn, sip } from '../../support/builders';

const NOW = '2024-05-01T10:00:00.000Z';
const CONTEXT = { now: NOW, changeRequestId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b' };
const ocschat = aUser();

describe('decideCreate', () => {
  const rejections: { name: string; request: CreateEndpointRequest; view: DirectoryView; code: string; pointer: string }[] = [
    {
      name: 'the SIP domain is not supported',
      request: aCreate({ sipAddress: sip('sip:chat@fabrikam.com') }),
      view: aView(),
      code: RejectionCode.sipDomainNotSupported,
      pointer: '/sipAddress',
    },
    {
      name: 'the pool is not registered',
      request: aCreate({ poolFqdn: fqdn('nopool.contoso.com') }),
      view: aView(),
      code: RejectionCode.poolNotFound,
      pointer: '/poolFqdn',
    },
    {
      name: 'another endpoint holds the address',
      request: aCreate(),
      view: aView({ holders: [anEndpoint({ poolFqdn: fqdn('pcpool2.contoso.com') })] }),
      code: RejectionCode.sipAddressHeldByEndpoint,
      pointer: '/sipAddress',
    },
    {
      name: 'the address is the pool default endpoint',
      request: aCreate({ sipAddress: sip('sip:pcdefault@contoso.com') }),
      view: aView({ holders: [anEndpoint({ sipAddress: sip('sip:pcdefault@contoso.com'), isDefault: true })] }),
      code: RejectionCode.sipAddressHeldByEndpoint,
      pointer: '/sipAddress',
    },
    {
      name: 'replaceLegacyUser names an endpoint-held address',
      request: aCreate({ replaceLegacyUser: true }),
      view: aView({ holders: [anEndpoint()] }),
      code: RejectionCode.sipAddressHeldByEndpoint,
      pointer: '/sipAddress',
    },
    {
      name: 'a user holds the address without replaceLegacyUser',
      request: aCreate({ sipAddress: ocschat.sipAddress }),
      view: aView({ holders: [ocschat] }),
      code: RejectionCode.sipAddressHeldByUser,
      pointer: '/sipAddress',
    },
    {
      name: 'replaceLegacyUser is false and a user holds the address',
      request: aCreate({ sipAddress: ocschat.sipAddress, replaceLegacyUser: false }),
      view: aView({ holders: [ocschat] }),
      code: RejectionCode.sipAddressHeldByUser,
      pointer: '/sipAddress',
    },
    {
      name: 'replaceLegacyUser is set but no user holds the address',
      request: aCreate({ replaceLegacyUser: true }),
      view: aView(),
      code: RejectionCode.legacyUserNotFound,
      pointer: '/replaceLegacyUser',
    },
    {
      name: 'the pool already has an admin endpoint',
      request: aCreate(),
      view: aView({ pools: [aPool({ adminEndpointSipAddress: sip('sip:other@contoso.com') })] }),
      code: RejectionCode.poolHasEndpoint,
      pointer: '/poolFqdn',
    },
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
      kind: 'endpoint',
      sipAddress: sip('sip:chat@contoso.com'),
      poolFqdn: fqdn('pcpool.contoso.com'),
      displayName: 'Chat',
      isDefault: false,
      createdAt: NOW,
      changeRequestId: CONTEXT.changeRequestId,
    };
    assert.deepEqual(decision, {
      outcome: 'applied',
      action: AuditAction.endpointCreated,
      subject: 'sip:chat@contoso.com',
      writes: [
        { type: 'putHolder', holder: endpoint },
        { type: 'putPool', pool: aPool({ adminEndpointSipAddress: sip('sip:chat@contoso.com') }) },
      ],
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
    assert.equal(
      decision.writes.some((w) => w.type === 'removeHolder'),
      false,
    );
    assert.deepEqual(decision.before, ocschat);
    assert.deepEqual(
      decision.writes.find((w) => w.type === 'putPool'),
      { type: 'putPool', pool: aPool({ adminEndpointSipAddress: ocschat.sipAddress }) },
    );
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

    const decision = appliedOf(
      decideDelete({ operation: 'delete', sipAddress: endpoint.sipAddress }, aView({ pools: [pool], holders: [endpoint] })),
    );

    assert.equal(decision.action, AuditAction.endpointDeleted);
    assert.deepEqual(decision.writes, [
      { type: 'removeHolder', sipAddress: endpoint.sipAddress },
      { type: 'putPool', pool: { ...pool, adminEndpointSipAddress: null } },
    ]);
    assert.deepEqual(decision.before, endpoint);
    assert.equal(decision.after, null);
  });
});
