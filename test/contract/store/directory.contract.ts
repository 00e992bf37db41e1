import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DirectoryCommit } from '../../../shared/application/ports/directory';
import { AuditAction, GENESIS_HEAD } from '../../../shared/domain/audit';
import type { SipDomain } from '../../../shared/domain/directory';
import { ConcurrencyError } from '../../../shared/domain/errors';
import {
  EMPTY_STORE,
  NOW,
  aChangeRequest,
  aCommit,
  aCreateRequest,
  aDefaultEndpoint,
  aDeleteRequest,
  aDomain,
  aDomainCommit,
  aPool,
  aUser,
  anAuditDraft,
  anEndpoint,
  fqdn,
  sip,
  aFirstCommit,
} from '../../support/builders';
import type { MakeStoreSubject } from './storeSubject';

/** What an empty store (or a deployment that has committed nothing) snapshots as, whatever is asked. */
const EMPTY_SNAPSHOT = {
  version: '',
  head: GENESIS_HEAD,
  domains: new Map(),
  pools: new Map(),
  holders: new Map(),
  changeRequests: new Map(),
  domainsInUse: new Set(),
  nextWaiting: new Map(),
};

/**
 * The Directory contract (shared/application/ports/directory.ts): a snapshot returns what a decision
 * asked for, with what comes along with it, as of one version; a commit is all or nothing, and is
 * refused with ConcurrencyError, writing nothing, when anything was committed since its version.
 */
export function describeDirectoryContract(name: string, makeSubject: MakeStoreSubject): void {
  describe(name, () => {
    it('an empty store snapshots as version "", the genesis head and nothing else', async () => {
      const store = await makeSubject();
      const snapshot = await store.directory.snapshot({
        domains: [fqdn('contoso.com')],
        pools: [fqdn('pcpool.contoso.com')],
        addresses: [sip('sip:chat@contoso.com')],
        domainUsage: [fqdn('contoso.com')],
        changeRequests: ['0190c0de-0000-7000-8000-000000000001'],
        waitingLists: [sip('sip:chat@contoso.com')],
      });
      assert.deepEqual(snapshot, EMPTY_SNAPSHOT);
      assert.equal(await store.queries.isEmpty(), true);
    });

    it('the first commit creates the head; a snapshot then sees domains, pools with their default endpoint, holders and change requests', async () => {
      const store = await makeSubject();
      const { commit, pool, user, request } = aFirstCommit();
      await store.directory.commit(commit);

      const snapshot = await store.directory.snapshot({
        domains: [fqdn('contoso.com'), fqdn('fabrikam.com')],
        pools: [pool.fqdn],
        addresses: [user.sipAddress, sip('sip:free@contoso.com')],
        domainUsage: [fqdn('contoso.com'), fqdn('fabrikam.com')],
        changeRequests: [request.id, 'unknown-id'],
      });
      assert.notEqual(snapshot.version, '');
      assert.deepEqual(
        { ...snapshot, version: '(etag)' },
        {
          version: '(etag)',
          head: commit.head,
          domains: new Map([['contoso.com', aDomain()]]),
          pools: new Map([[pool.fqdn, pool]]),
          // The default endpoint comes along with its pool though its address was not asked for.
          holders: new Map<string, unknown>([
            [user.sipAddress, user],
            [pool.defaultEndpointSipAddress, aDefaultEndpoint(pool)],
          ]),
          changeRequests: new Map([[request.id, request]]),
          domainsInUse: new Set(['contoso.com']),
          nextWaiting: new Map(),
        },
      );
      assert.equal(commit.head.sequence, 2);
      assert.equal(await store.queries.isEmpty(), false);
    });

    it('a snapshot brings the pool of each endpoint address read', async () => {
      const store = await makeSubject();
      const pool = aPool({ adminEndpointSipAddress: sip('sip:chat@contoso.com') });
      const endpoint = anEndpoint({ sipAddress: sip('sip:chat@contoso.com'), poolFqdn: pool.fqdn });
      await store.directory.commit(
        aCommit(EMPTY_STORE, {
          writes: [
            { type: 'putPool', pool },
            { type: 'putHolder', holder: aDefaultEndpoint(pool) },
            { type: 'putHolder', holder: endpoint },
          ],
          drafts: [anAuditDraft({ action: AuditAction.poolRegistered, subject: 'pool:pcpool.contoso.com' })],
        }),
      );

      const snapshot = await store.directory.snapshot({ addresses: [endpoint.sipAddress] });
      assert.deepEqual(snapshot.holders.get(endpoint.sipAddress), endpoint);
      assert.deepEqual(snapshot.pools, new Map([[pool.fqdn, pool]]));
    });

    it('a snapshot brings the next request of each waiting list read, lowest ticket first, with the pool it names', async () => {
      const store = await makeSubject();
      const pool = aPool();
      await store.directory.commit(
        aCommit(EMPTY_STORE, {
          writes: [
            { type: 'putPool', pool },
            { type: 'putHolder', holder: aDefaultEndpoint(pool) },
          ],
          drafts: [anAuditDraft({ action: AuditAction.poolRegistered, subject: 'pool:pcpool.contoso.com' })],
        }),
      );
      const create = aChangeRequest({ request: aCreateRequest({ sipAddress: sip('sip:chat@contoso.com'), poolFqdn: pool.fqdn }) });
      const remove = aChangeRequest({ request: aDeleteRequest({ sipAddress: sip('sip:chat@contoso.com') }) });
      const options = { now: new Date(NOW), redriveAt: new Date(Date.parse(NOW) + 30_000) };
      await store.admissions.admit(create, options);
      await store.admissions.admit(remove, options);

      const snapshot = await store.directory.snapshot({ waitingLists: [sip('sip:chat@contoso.com'), sip('sip:nobody@contoso.com')] });
      assert.deepEqual(snapshot.nextWaiting, new Map([['sip:chat@contoso.com', { ...create, ticket: 1 }]]));
      assert.deepEqual(snapshot.pools, new Map([[pool.fqdn, pool]]));
    });

    it('a commit that settles a waiting request takes it out of its waiting list', async () => {
      const store = await makeSubject();
      const first = aChangeRequest({ request: aDeleteRequest() });
      const second = aChangeRequest({ request: aDeleteRequest() });
      const options = { now: new Date(NOW), redriveAt: new Date(Date.parse(NOW) + 30_000) };
      await store.admissions.admit(first, options);
      await store.admissions.admit(second, options);
      const waitingLists = [sip('sip:chat@contoso.com')];
      const base = await store.directory.snapshot({ waitingLists });
      assert.equal(base.nextWaiting.get('sip:chat@contoso.com')?.id, first.id);

      const settled = { ...first, ticket: 1, status: 'rejected' as const, completedAt: NOW, auditSequence: 1 };
      await store.directory.commit(
        aCommit(base, {
          changeRequests: [settled],
          drafts: [
            anAuditDraft({ action: AuditAction.endpointDeleteRejected, subject: 'sip:chat@contoso.com', changeRequestId: first.id }),
          ],
        }),
      );
      const after = await store.directory.snapshot({ waitingLists, changeRequests: [first.id] });
      assert.deepEqual(after.nextWaiting, new Map([['sip:chat@contoso.com', { ...second, ticket: 2 }]]));
      assert.deepEqual(after.changeRequests, new Map([[first.id, settled]]));
    });

    it('a commit on a stale version is refused with ConcurrencyError and writes nothing at all', async () => {
      const store = await makeSubject();
      await store.directory.commit(aDomainCommit(EMPTY_STORE, 'contoso.com'));
      const stale = await store.directory.snapshot({});
      await store.directory.commit(aDomainCommit(stale, 'fabrikam.com'));
      const current = await store.directory.snapshot({});
      const before = await store.persisted();

      // Only the version is stale: the records follow the current head (sequence 3), so the version
      // is the one thing that can refuse this commit.
      const late = aCommit(
        { version: stale.version, head: current.head },
        {
          writes: [
            { type: 'putDomain', domain: aDomain({ name: fqdn('northwind.com') }) },
            { type: 'putHolder', holder: aUser({ sipAddress: sip('sip:late@contoso.com'), displayName: null }) },
          ],
          drafts: [anAuditDraft({ subject: 'sip-domain:northwind.com' })],
          changeRequests: [
            aChangeRequest({
              id: '0190c0de-0000-7000-8000-0000000000bb',
              request: aDeleteRequest({ sipAddress: sip('sip:late@contoso.com') }),
            }),
          ],
        },
      );
      await assert.rejects(store.directory.commit(late), ConcurrencyError);

      // Nothing of the refused commit is anywhere: no state, no change request, no audit record, no event, head untouched.
      assert.deepEqual(await store.persisted(), before);
      assert.deepEqual((await store.directory.snapshot({ domains: [fqdn('northwind.com')] })).domains, new Map(), 'no domain');
      assert.equal(await store.queries.holder(sip('sip:late@contoso.com')), undefined, 'no holder');
      assert.equal(await store.queries.changeRequest('0190c0de-0000-7000-8000-0000000000bb'), undefined, 'no change request');
      assert.deepEqual((await store.auditSearch.page({ subject: 'sip-domain:northwind.com', limit: 10 })).items, [], 'no audit record');
      assert.deepEqual((await store.directory.snapshot({})).head, current.head);
      assert.deepEqual(
        (await store.auditSearch.page({ limit: 10 })).items.map((r) => r.subject),
        ['sip-domain:fabrikam.com', 'sip-domain:contoso.com'],
      );
      assert.deepEqual(
        (await store.outbox.pending(10)).map((e) => e.data.sequence),
        [1, 2],
      );

      // The same commit on the current version goes through.
      await store.directory.commit({ ...late, expectedVersion: current.version });
      assert.deepEqual(
        (await store.directory.snapshot({ domains: [fqdn('northwind.com')] })).domains,
        new Map([['northwind.com', aDomain({ name: fqdn('northwind.com') })]]),
      );
    });

    it('a commit on the current version whose audit records collide with committed ones is rolled back as a whole', async () => {
      const store = await makeSubject();
      await store.directory.commit(aDomainCommit(EMPTY_STORE, 'contoso.com'));
      const current = await store.directory.snapshot({});
      const before = await store.persisted();
      // Current version, but records chained on the genesis head: sequence 1 exists, so its record collides after the head moved.
      const colliding = aDomainCommit({ version: current.version, head: GENESIS_HEAD }, 'fabrikam.com');
      await assert.rejects(store.directory.commit(colliding), ConcurrencyError);
      assert.deepEqual(await store.persisted(), before);
      assert.equal((await store.directory.snapshot({})).version, current.version, 'the head was not rewritten');
    });

    it('a "first" commit, on version "", to a store that already has a head is refused and writes nothing', async () => {
      const store = await makeSubject();
      await store.directory.commit(aDomainCommit(EMPTY_STORE, 'contoso.com'));
      const before = await store.persisted();
      await assert.rejects(store.directory.commit(aDomainCommit(EMPTY_STORE, 'fabrikam.com')), ConcurrencyError);
      assert.deepEqual(await store.persisted(), before);
    });

    for (const start of ['an empty store', 'an existing head'] as const) {
      it(`two concurrent commits from one snapshot of ${start}: exactly one wins`, async () => {
        const store = await makeSubject();
        const earlier = start === 'an existing head' ? [aDomainCommit(EMPTY_STORE, 'contoso.com')] : [];
        for (const commit of earlier) await store.directory.commit(commit);
        const base = await store.directory.snapshot({});
        const contenders = ['fabrikam.com', 'northwind.com'].map((domain) => aDomainCommit(base, domain));
        const outcomes = await Promise.allSettled(contenders.map((commit) => store.directory.commit(commit)));

        const winners = outcomes.flatMap((outcome, i) => (outcome.status === 'fulfilled' ? [contenders[i] as DirectoryCommit] : []));
        const losers = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
        assert.equal(winners.length, 1);
        assert.equal(losers.length, 1);
        assert.ok(losers[0] instanceof ConcurrencyError, `the loser fails with ConcurrencyError, got ${String(losers[0])}`);

        const winner = winners[0] as DirectoryCommit;
        const winnerDomain = (winner.writes[0] as { domain: SipDomain }).domain.name;
        const loserDomain = winnerDomain === 'fabrikam.com' ? 'northwind.com' : 'fabrikam.com';
        const after = await store.directory.snapshot({ domains: [fqdn('fabrikam.com'), fqdn('northwind.com')] });
        assert.deepEqual(after.head, winner.head);
        assert.deepEqual([...after.domains.keys()], [winnerDomain]);
        assert.equal(after.domains.has(loserDomain), false);
        assert.deepEqual(
          await store.outbox.pending(10),
          [...earlier, winner].flatMap((commit) => commit.outbox),
        );
      });
    }

    it('one partition per deployment: what one deployment commits, another sharing its storage never sees', async () => {
      const store = await makeSubject();
      const other = await store.anotherDeployment();
      await store.directory.commit(aDomainCommit(EMPTY_STORE, 'contoso.com'));
      assert.equal(await other.queries.isEmpty(), true);
      assert.deepEqual(await other.directory.snapshot({ domains: [fqdn('contoso.com')] }), EMPTY_SNAPSHOT);
      assert.deepEqual(await other.auditSearch.page({ limit: 10 }), { items: [], nextCursor: null });

      // Each deployment has a head of its own: the other's first commit is not refused.
      const first = aDomainCommit(EMPTY_STORE, 'fabrikam.com');
      await other.directory.commit(first);
      assert.deepEqual((await other.directory.snapshot({})).head, first.head);
      assert.deepEqual([...(await store.directory.snapshot({ domains: [fqdn('fabrikam.com')] })).domains.keys()], []);
    });
  });
}
