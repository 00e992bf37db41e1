import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CloudEvent } from '../../../shared/application/events';
import { EMPTY_STORE, aCommit, aDomain, aDomainCommit, anAuditDraft, fqdn } from '../../support/builders';
import type { MakeStoreSubject } from './storeSubject';

/**
 * The Outbox contract (shared/application/ports/outbox.ts): a commit's events wait in the outbox,
 * oldest first, until marked published; marking drops the event and nothing else.
 */
export function describeOutboxContract(name: string, makeSubject: MakeStoreSubject): void {
  describe(name, () => {
    it('pending returns committed events in sequence order; markPublished drops one, idempotently', async () => {
      const store = await makeSubject();
      const domains = ['contoso.com', 'fabrikam.com', 'northwind.com'];
      const commit = aCommit(EMPTY_STORE, {
        writes: domains.map((name) => ({ type: 'putDomain', domain: aDomain({ name: fqdn(name) }) })),
        drafts: domains.map((name) => anAuditDraft({ subject: `sip-domain:${name}` })),
      });
      await store.directory.commit(commit);
      const [e1, e2, e3] = commit.outbox as [CloudEvent, CloudEvent, CloudEvent];

      assert.deepEqual(await store.outbox.pending(10), [e1, e2, e3]);
      assert.deepEqual(await store.outbox.pending(2), [e1, e2]);
      await store.outbox.markPublished(e2);
      assert.deepEqual(await store.outbox.pending(10), [e1, e3]);
      await store.outbox.markPublished(e2);
      assert.deepEqual(await store.outbox.pending(10), [e1, e3]);
      await store.outbox.markPublished(e1);
      await store.outbox.markPublished(e3);
      assert.deepEqual(await store.outbox.pending(10), []);

      // Publishing drops events only: the audit records and the state they announce stay.
      assert.deepEqual((await store.auditSearch.page({ limit: 10 })).items, [...commit.audit].reverse());
      assert.deepEqual([...(await store.directory.snapshot({ domains: domains.map(fqdn) })).domains.keys()], domains);
    });

    it('pending spans commits in sequence order, the oldest first, past sequence 9', async () => {
      const store = await makeSubject();
      const first = aDomainCommit(EMPTY_STORE, 'contoso.com');
      await store.directory.commit(first);
      const second = aCommit(await store.directory.snapshot({}), {
        drafts: Array.from({ length: 11 }, (_, i) => anAuditDraft({ subject: `sip-domain:d${i}.contoso.com` })),
      });
      await store.directory.commit(second);

      assert.deepEqual(await store.outbox.pending(20), [...first.outbox, ...second.outbox]);
      assert.deepEqual(
        (await store.outbox.pending(20)).map((event) => event.data.sequence),
        Array.from({ length: 12 }, (_, i) => i + 1),
      );
      assert.deepEqual(await store.outbox.pending(1), first.outbox);
    });
  });
}
