import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointFilter } from '../../../shared/application/ports/directoryQueries';
import { AuditAction } from '../../../shared/domain/audit';
import type { ChangeRequest } from '../../../shared/domain/changeRequest';
import type { DirectoryWrite, Endpoint, PersistentChatPool } from '../../../shared/domain/directory';
import {
  EMPTY_STORE,
  NOW,
  aChangeRequest,
  aCommit,
  aDefaultEndpoint,
  aDomain,
  aDomainCommit,
  aPool,
  aUser,
  anAuditDraft,
  anEndpoint,
  fqdn,
  sip,
} from '../../support/builders';
import { allPages, assertRefusesCursor, type MakeStoreSubject, type StoreSubject } from './storeSubject';

/** A pool registered with its default endpoint, as one commit's writes. */
const poolWrites = (pool: PersistentChatPool): DirectoryWrite[] => [
  { type: 'putPool', pool },
  { type: 'putHolder', holder: aDefaultEndpoint(pool) },
];

/**
 * Two domains, three pools with their default endpoints, a directory user and three admin-created
 * endpoints, committed as a topology set-up and then the endpoints; returns every endpoint in the
 * order listings give them (by domain, then user).
 */
async function commitEndpoints(store: StoreSubject): Promise<Endpoint[]> {
  const pool1 = aPool({ fqdn: fqdn('pool1.contoso.com'), defaultEndpointSipAddress: sip('sip:default1@contoso.com') });
  const pool2 = aPool({ fqdn: fqdn('pool2.contoso.com'), defaultEndpointSipAddress: sip('sip:default2@contoso.com') });
  const pool3 = aPool({ fqdn: fqdn('pool3.fabrikam.com'), defaultEndpointSipAddress: sip('sip:default3@fabrikam.com') });
  const user = aUser({ sipAddress: sip('sip:ocschat@contoso.com'), displayName: 'Group Chat Room user' });
  await store.directory.commit(
    aCommit(EMPTY_STORE, {
      writes: [
        { type: 'putDomain', domain: aDomain({ name: fqdn('contoso.com') }) },
        { type: 'putDomain', domain: aDomain({ name: fqdn('fabrikam.com') }) },
        ...[pool1, pool2, pool3].flatMap(poolWrites),
        { type: 'putHolder', holder: user },
      ],
      drafts: [
        anAuditDraft({ action: AuditAction.sipDomainAdded, subject: 'sip-domain:contoso.com' }),
        anAuditDraft({ action: AuditAction.sipDomainAdded, subject: 'sip-domain:fabrikam.com' }),
        ...[pool1, pool2, pool3].map((pool) => anAuditDraft({ action: AuditAction.poolRegistered, subject: `pool:${pool.fqdn}` })),
        anAuditDraft({ action: AuditAction.directoryUserAdded, subject: user.sipAddress }),
      ],
    }),
  );

  const chat1 = anEndpoint({
    sipAddress: sip('sip:chat1@contoso.com'),
    poolFqdn: pool1.fqdn,
    displayName: 'Legacy Chat Room',
    changeRequestId: 'cr-chat1',
  });
  const chat2 = anEndpoint({
    sipAddress: sip('sip:chat2@contoso.com'),
    poolFqdn: pool2.fqdn,
    displayName: 'Sales room',
    changeRequestId: 'cr-chat2',
  });
  const group = anEndpoint({
    sipAddress: sip('sip:groupchat@fabrikam.com'),
    poolFqdn: pool3.fqdn,
    displayName: null,
    changeRequestId: 'cr-group',
  });
  const created: Array<[PersistentChatPool, Endpoint]> = [
    [pool1, chat1],
    [pool2, chat2],
    [pool3, group],
  ];
  await store.directory.commit(
    aCommit(await store.directory.snapshot({}), {
      writes: created.flatMap(([pool, endpoint]): DirectoryWrite[] => [
        { type: 'putHolder', holder: endpoint },
        { type: 'putPool', pool: { ...pool, adminEndpointSipAddress: endpoint.sipAddress } },
      ]),
      drafts: created.map(([, endpoint]) =>
        anAuditDraft({
          actor: 'alice',
          action: AuditAction.endpointCreated,
          subject: endpoint.sipAddress,
          changeRequestId: endpoint.changeRequestId,
        }),
      ),
    }),
  );
  return [chat1, chat2, aDefaultEndpoint(pool1), aDefaultEndpoint(pool2), aDefaultEndpoint(pool3), group];
}

/**
 * The DirectoryQueries contract (shared/application/ports/directoryQueries.ts): change requests and
 * address holders by key; endpoints (never directory users) filtered by pool and by `*` wildcards,
 * in pages whose cursors only that listing accepts; the topology; and whether anything was committed.
 * Listings come in a stable order, by domain and then user (pools and domains by name), which callers
 * page through and the contract pins.
 */
export function describeDirectoryQueriesContract(name: string, makeSubject: MakeStoreSubject): void {
  describe(name, () => {
    /** The addresses of a single-page listing. */
    const addresses = async (store: StoreSubject, filter: EndpointFilter) => {
      const page = await store.queries.endpoints(filter);
      assert.equal(page.nextCursor, null);
      return page.items.map((e) => e.sipAddress);
    };

    it('lists every endpoint, never a directory user, exactly as stored', async () => {
      const store = await makeSubject();
      const all = await commitEndpoints(store);
      assert.deepEqual(await store.queries.endpoints({ limit: 100 }), { items: all, nextCursor: null });
    });

    it('filters endpoints by pool', async () => {
      const store = await makeSubject();
      await commitEndpoints(store);
      assert.deepEqual(await addresses(store, { poolFqdn: fqdn('pool1.contoso.com'), limit: 100 }), [
        'sip:chat1@contoso.com',
        'sip:default1@contoso.com',
      ]);
      assert.deepEqual(await addresses(store, { poolFqdn: fqdn('pool3.fabrikam.com'), limit: 100 }), [
        'sip:default3@fabrikam.com',
        'sip:groupchat@fabrikam.com',
      ]);
      assert.deepEqual(await addresses(store, { poolFqdn: fqdn('nowhere.contoso.com'), limit: 100 }), []);
    });

    it('matches poolFqdn with * wildcards, case-insensitively, besides exact names', async () => {
      const store = await makeSubject();
      await commitEndpoints(store);
      assert.deepEqual(await addresses(store, { poolFqdn: 'pool*.contoso.com', limit: 100 }), [
        'sip:chat1@contoso.com',
        'sip:chat2@contoso.com',
        'sip:default1@contoso.com',
        'sip:default2@contoso.com',
      ]);
      assert.deepEqual(await addresses(store, { poolFqdn: '*3.fabrikam.com', limit: 100 }), [
        'sip:default3@fabrikam.com',
        'sip:groupchat@fabrikam.com',
      ]);
      assert.deepEqual(await addresses(store, { poolFqdn: '*.nowhere.com', limit: 100 }), []);
    });

    it('finds endpoints by exact display name, at most `limit` of them, never a directory user', async () => {
      const store = await makeSubject();
      const [chat1] = await commitEndpoints(store);
      assert.deepEqual(await store.queries.endpointsNamed('Legacy Chat Room', 50), [chat1]);
      // Exact, as stored: another case or a pattern names nothing; a user's display name is not an endpoint's.
      assert.deepEqual(await store.queries.endpointsNamed('legacy chat room', 50), []);
      assert.deepEqual(await store.queries.endpointsNamed('Legacy*', 50), []);
      assert.deepEqual(await store.queries.endpointsNamed('Group Chat Room user', 50), []);

      const twin = anEndpoint({
        sipAddress: sip('sip:twin@contoso.com'),
        poolFqdn: fqdn('pool2.contoso.com'),
        displayName: 'Legacy Chat Room',
      });
      await store.directory.commit(
        aCommit(await store.directory.snapshot({}), {
          writes: [{ type: 'putHolder', holder: twin }],
          drafts: [anAuditDraft({ action: AuditAction.endpointCreated, subject: twin.sipAddress })],
        }),
      );
      assert.deepEqual(
        (await store.queries.endpointsNamed('Legacy Chat Room', 50)).map((e) => e.sipAddress),
        ['sip:chat1@contoso.com', 'sip:twin@contoso.com'],
      );
      assert.equal((await store.queries.endpointsNamed('Legacy Chat Room', 1)).length, 1);
    });

    it('matches sipAddress with wildcards, case-insensitively, and everything else literally', async () => {
      const store = await makeSubject();
      await commitEndpoints(store);
      assert.deepEqual(await addresses(store, { sipAddress: 'sip:chat*@contoso.com', limit: 100 }), [
        'sip:chat1@contoso.com',
        'sip:chat2@contoso.com',
      ]);
      assert.deepEqual(await addresses(store, { sipAddress: 'SIP:DEFAULT*', limit: 100 }), [
        'sip:default1@contoso.com',
        'sip:default2@contoso.com',
        'sip:default3@fabrikam.com',
      ]);
      assert.deepEqual(await addresses(store, { sipAddress: '*@fabrikam.com', limit: 100 }), [
        'sip:default3@fabrikam.com',
        'sip:groupchat@fabrikam.com',
      ]);
      assert.deepEqual(await addresses(store, { sipAddress: 'sip:groupchat@fabrikam.com', limit: 100 }), ['sip:groupchat@fabrikam.com']);
      assert.deepEqual(await addresses(store, { sipAddress: 'sip:chat1@contoso', limit: 100 }), [], 'no implicit trailing wildcard');
      assert.deepEqual(
        await addresses(store, { sipAddress: 'sip:chat.@contoso.com', limit: 100 }),
        [],
        'a dot is a dot, not any character',
      );
      assert.deepEqual(
        await addresses(store, { sipAddress: 'sip:ocschat@contoso.com', limit: 100 }),
        [],
        'a directory user is not an endpoint',
      );
    });

    it('matches displayName with wildcards; endpoints without a display name never match', async () => {
      const store = await makeSubject();
      await commitEndpoints(store);
      assert.deepEqual(await addresses(store, { displayName: '*room', limit: 100 }), ['sip:chat1@contoso.com', 'sip:chat2@contoso.com']);
      assert.deepEqual(await addresses(store, { displayName: 'legacy*', limit: 100 }), ['sip:chat1@contoso.com']);
      assert.deepEqual(await addresses(store, { displayName: '*', limit: 100 }), ['sip:chat1@contoso.com', 'sip:chat2@contoso.com']);
      assert.deepEqual(await addresses(store, { displayName: 'Group Chat Room user', limit: 100 }), []);
    });

    it('combines pool and wildcard filters', async () => {
      const store = await makeSubject();
      await commitEndpoints(store);
      assert.deepEqual(await addresses(store, { poolFqdn: fqdn('pool2.contoso.com'), sipAddress: 'sip:chat*', limit: 100 }), [
        'sip:chat2@contoso.com',
      ]);
      assert.deepEqual(await addresses(store, { poolFqdn: fqdn('pool2.contoso.com'), displayName: 'legacy*', limit: 100 }), []);
    });

    for (const limit of [1, 2, 4, 6]) {
      it(`pages with limit ${limit} visit every endpoint exactly once, in order`, async () => {
        const store = await makeSubject();
        const all = await commitEndpoints(store);
        const pages = await allPages((cursor) => store.queries.endpoints({ limit, ...(cursor ? { cursor } : {}) }));
        for (const page of pages) assert.ok(page.length <= limit);
        assert.deepEqual(
          pages.flat().map((e) => e.sipAddress),
          all.map((e) => e.sipAddress),
        );
        assert.equal(pages.length, Math.ceil(all.length / limit));
      });
    }

    it('pages through a filtered listing: the cursor keeps the place of the filter', async () => {
      const store = await makeSubject();
      const all = await commitEndpoints(store);
      const first = await store.queries.endpoints({ sipAddress: 'sip:default*', limit: 2 });
      assert.deepEqual(
        first.items.map((e) => e.sipAddress),
        ['sip:default1@contoso.com', 'sip:default2@contoso.com'],
      );
      assert.ok(first.nextCursor);
      const second = await store.queries.endpoints({ sipAddress: 'sip:default*', limit: 2, cursor: first.nextCursor });
      assert.deepEqual(second, { items: [all[4]], nextCursor: null });
    });

    it('refuses a cursor it did not issue with a ValidationError on #/cursor', async () => {
      const store = await makeSubject();
      await commitEndpoints(store);
      const auditCursor = (await store.auditSearch.page({ limit: 1 })).nextCursor as string;
      for (const cursor of ['garbage!', Buffer.from('{"after":42}').toString('base64url'), auditCursor]) {
        await assertRefusesCursor(store.queries.endpoints({ limit: 2, cursor }));
      }
    });

    it('topology returns domains, pools with their default endpoint, and directory users, not admin endpoints', async () => {
      const store = await makeSubject();
      assert.deepEqual(await store.queries.topology(), { sipDomains: [], pools: [], users: [] });
      const contosoPool = aPool({
        fqdn: fqdn('pcpool.contoso.com'),
        defaultEndpointSipAddress: sip('sip:pcdefault@contoso.com'),
        adminEndpointSipAddress: sip('sip:chat@contoso.com'),
      });
      const fabrikamPool = aPool({ fqdn: fqdn('pcpool.fabrikam.com'), defaultEndpointSipAddress: sip('sip:pcdefault@fabrikam.com') });
      const contosoUser = aUser({ sipAddress: sip('sip:ocschat@contoso.com'), displayName: 'Group Chat' });
      const fabrikamUser = aUser({ sipAddress: sip('sip:ocschat@fabrikam.com'), displayName: null });
      await store.directory.commit(
        aCommit(EMPTY_STORE, {
          writes: [
            { type: 'putDomain', domain: aDomain({ name: fqdn('contoso.com') }) },
            { type: 'putDomain', domain: aDomain({ name: fqdn('fabrikam.com') }) },
            ...poolWrites(contosoPool),
            ...poolWrites(fabrikamPool),
            { type: 'putHolder', holder: contosoUser },
            { type: 'putHolder', holder: fabrikamUser },
            {
              type: 'putHolder',
              holder: anEndpoint({ sipAddress: sip('sip:chat@contoso.com'), poolFqdn: contosoPool.fqdn, displayName: 'Chat' }),
            },
          ],
          drafts: [anAuditDraft()],
        }),
      );

      assert.deepEqual(await store.queries.topology(), {
        sipDomains: [aDomain({ name: fqdn('contoso.com') }), aDomain({ name: fqdn('fabrikam.com') })],
        pools: [
          { ...contosoPool, defaultEndpoint: aDefaultEndpoint(contosoPool) },
          { ...fabrikamPool, defaultEndpoint: aDefaultEndpoint(fabrikamPool) },
        ],
        users: [contosoUser, fabrikamUser],
      });
    });

    it('isEmpty is true until the first commit and false after', async () => {
      const store = await makeSubject();
      assert.equal(await store.queries.isEmpty(), true);
      await store.directory.commit(aDomainCommit(EMPTY_STORE, 'contoso.com'));
      assert.equal(await store.queries.isEmpty(), false);
    });

    it('changeRequest returns a request as last admitted or committed, and nothing for an unknown id', async () => {
      const store = await makeSubject();
      const request = aChangeRequest();
      await store.admissions.admit(request, { now: new Date(NOW), redriveAt: new Date(NOW) });
      assert.deepEqual(await store.queries.changeRequest(request.id), { ...request, ticket: 1 });

      const settled: ChangeRequest = { ...request, ticket: 1, status: 'applied', completedAt: NOW, auditSequence: 1 };
      await store.directory.commit(
        aCommit(EMPTY_STORE, { changeRequests: [settled], drafts: [anAuditDraft({ changeRequestId: request.id })] }),
      );
      assert.deepEqual(await store.queries.changeRequest(request.id), settled);
      assert.equal(await store.queries.changeRequest('0190c0de-0000-7000-8000-00000000ffff'), undefined);
    });

    it('holder returns the endpoint or user holding an address, and nothing for a free one', async () => {
      const store = await makeSubject();
      const endpoint = anEndpoint({ sipAddress: sip('sip:chat@contoso.com') });
      const user = aUser({ sipAddress: sip('sip:ocschat@contoso.com') });
      await store.directory.commit(
        aCommit(EMPTY_STORE, {
          writes: [
            { type: 'putHolder', holder: endpoint },
            { type: 'putHolder', holder: user },
          ],
          drafts: [anAuditDraft({ action: AuditAction.directoryUserAdded, subject: user.sipAddress })],
        }),
      );
      assert.deepEqual(await store.queries.holder(endpoint.sipAddress), endpoint);
      assert.deepEqual(await store.queries.holder(user.sipAddress), user);
      assert.equal(await store.queries.holder(sip('sip:free@contoso.com')), undefined);

      await store.directory.commit(
        aCommit(await store.directory.snapshot({}), {
          writes: [{ type: 'removeHolder', sipAddress: endpoint.sipAddress }],
          drafts: [anAuditDraft({ action: AuditAction.endpointDeleted, subject: endpoint.sipAddress })],
        }),
      );
      assert.equal(await store.queries.holder(endpoint.sipAddress), undefined);
    });
  });
}
