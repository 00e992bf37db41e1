import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditQuery } from '../../../shared/application/ports/auditSearch';
import { AuditAction, type AuditDraft, type AuditRecord } from '../../../shared/domain/audit';
import { RejectionCode } from '../../../shared/domain/codes';
import { aCommit, anAuditDraft } from '../../support/builders';
import { allPages, assertRefusesCursor, type MakeStoreSubject, type StoreSubject } from './storeSubject';

/** The time of the trail's record at `minute` (0-6). */
const at = (minute: number) => `2024-05-01T10:0${minute}:00.000Z`;
const sequences = (records: AuditRecord[]) => records.map((r) => r.sequence);
const admin = { actor: 'admin@contoso.com', correlationId: 'corr-topology' };
const changeRequest = (sequence: number) => ({
  changeRequestId: `0190c0de-0000-7000-8000-00000000000${sequence}`,
  correlationId: `corr-${sequence}`,
});

/**
 * The trail every test searches, oldest first, one commit per record at minute 0-6: an administrator
 * sets up contoso.com, its pool and its Group Chat user; a bot creates sip:chat@…, then fails to create
 * it again; alice deletes it, then replaces the Group Chat user with an endpoint.
 */
const TRAIL: AuditDraft[] = [
  anAuditDraft({ ...admin, action: AuditAction.sipDomainAdded, subject: 'sip-domain:contoso.com' }),
  anAuditDraft({ ...admin, action: AuditAction.poolRegistered, subject: 'pool:pcpool.contoso.com' }),
  anAuditDraft({ ...admin, action: AuditAction.directoryUserAdded, subject: 'sip:ocschat@contoso.com' }),
  anAuditDraft({ ...changeRequest(4), actor: 'bot', action: AuditAction.endpointCreated, subject: 'sip:chat@contoso.com' }),
  anAuditDraft({
    ...changeRequest(5),
    actor: 'bot',
    action: AuditAction.endpointCreateRejected,
    subject: 'sip:chat@contoso.com',
    outcome: { status: 'rejected', code: RejectionCode.sipAddressHeldByEndpoint, message: 'sip:chat@contoso.com is already an endpoint' },
  }),
  anAuditDraft({ ...changeRequest(6), actor: 'alice', action: AuditAction.endpointDeleted, subject: 'sip:chat@contoso.com' }),
  anAuditDraft({ ...changeRequest(7), actor: 'alice', action: AuditAction.endpointCreated, subject: 'sip:ocschat@contoso.com' }),
];

/** Commits the trail; returns its records newest first, as committed. */
async function commitTrail(store: StoreSubject): Promise<AuditRecord[]> {
  const log: AuditRecord[] = [];
  for (const [minute, draft] of TRAIL.entries()) {
    const commit = aCommit(await store.directory.snapshot({}), { drafts: [draft], now: new Date(at(minute)) });
    await store.directory.commit(commit);
    log.unshift(...commit.audit);
  }
  return log;
}

/** Everything `export` streams for a query. */
async function exported(store: StoreSubject, query: AuditQuery): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  for await (const record of store.auditSearch.export(query)) records.push(record);
  return records;
}

/**
 * The AuditSearch contract (shared/application/ports/auditSearch.ts): pages of matching records,
 * newest first, for any combination of filters and an inclusive time window; cursors that continue
 * only the query that issued them; and an export that streams every match.
 */
export function describeAuditSearchContract(name: string, makeSubject: MakeStoreSubject): void {
  describe(name, () => {
    it('lists every record newest first, exactly as committed', async () => {
      const store = await makeSubject();
      const log = await commitTrail(store);
      assert.deepEqual(sequences(log), [7, 6, 5, 4, 3, 2, 1]);
      assert.deepEqual(await store.auditSearch.page({ limit: 100 }), { items: log, nextCursor: null });
      assert.deepEqual(
        log.map((r) => [r.action, r.subject, r.actor, r.time]),
        [
          [AuditAction.endpointCreated, 'sip:ocschat@contoso.com', 'alice', at(6)],
          [AuditAction.endpointDeleted, 'sip:chat@contoso.com', 'alice', at(5)],
          [AuditAction.endpointCreateRejected, 'sip:chat@contoso.com', 'bot', at(4)],
          [AuditAction.endpointCreated, 'sip:chat@contoso.com', 'bot', at(3)],
          [AuditAction.directoryUserAdded, 'sip:ocschat@contoso.com', admin.actor, at(2)],
          [AuditAction.poolRegistered, 'pool:pcpool.contoso.com', admin.actor, at(1)],
          [AuditAction.sipDomainAdded, 'sip-domain:contoso.com', admin.actor, at(0)],
        ],
      );
    });

    it('filters by subject, whole subjects only', async () => {
      const store = await makeSubject();
      const log = await commitTrail(store);
      assert.deepEqual(sequences((await store.auditSearch.page({ subject: 'sip:chat@contoso.com', limit: 100 })).items), [6, 5, 4]);
      assert.deepEqual(sequences((await store.auditSearch.page({ subject: 'sip:ocschat@contoso.com', limit: 100 })).items), [7, 3]);
      assert.deepEqual(sequences((await store.auditSearch.page({ subject: 'pool:pcpool.contoso.com', limit: 100 })).items), [2]);
      assert.deepEqual(
        (await store.auditSearch.page({ subject: 'sip:chat@contoso.co', limit: 100 })).items,
        [],
        'a subject prefix is not a match',
      );
      assert.deepEqual(
        (await store.auditSearch.page({ subject: 'sip:chat@contoso.com', limit: 100 })).items,
        log.filter((r) => r.subject === 'sip:chat@contoso.com'),
      );
    });

    it('filters by action and by actor', async () => {
      const store = await makeSubject();
      await commitTrail(store);
      assert.deepEqual(sequences((await store.auditSearch.page({ action: AuditAction.endpointCreated, limit: 100 })).items), [7, 4]);
      assert.deepEqual(sequences((await store.auditSearch.page({ action: AuditAction.endpointCreateRejected, limit: 100 })).items), [5]);
      assert.deepEqual(sequences((await store.auditSearch.page({ actor: 'bot', limit: 100 })).items), [5, 4]);
      assert.deepEqual(
        sequences((await store.auditSearch.page({ actor: 'alice', action: AuditAction.endpointDeleted, limit: 100 })).items),
        [6],
      );
      assert.deepEqual(
        sequences((await store.auditSearch.page({ subject: 'sip:chat@contoso.com', actor: 'bot', limit: 100 })).items),
        [5, 4],
      );
    });

    it('filters by outcome and by change request', async () => {
      const store = await makeSubject();
      const log = await commitTrail(store);
      assert.deepEqual(sequences((await store.auditSearch.page({ outcome: 'rejected', limit: 100 })).items), [5]);
      assert.deepEqual(sequences((await store.auditSearch.page({ outcome: 'applied', actor: 'bot', limit: 100 })).items), [4]);
      const rejected = log.find((r) => r.sequence === 5) as AuditRecord;
      assert.deepEqual(
        sequences((await store.auditSearch.page({ changeRequestId: rejected.changeRequestId as string, limit: 100 })).items),
        [5],
      );
      assert.deepEqual((await store.auditSearch.page({ changeRequestId: '0190c0de-0000-7000-8000-000000000000', limit: 100 })).items, []);
    });

    it('filters by correlation id, alone and with other filters', async () => {
      const store = await makeSubject();
      await commitTrail(store);
      assert.deepEqual(sequences((await store.auditSearch.page({ correlationId: 'corr-topology', limit: 100 })).items), [3, 2, 1]);
      assert.deepEqual(sequences((await store.auditSearch.page({ correlationId: 'corr-5', limit: 100 })).items), [5]);
      assert.deepEqual(
        sequences((await store.auditSearch.page({ correlationId: 'corr-topology', action: AuditAction.poolRegistered, limit: 100 })).items),
        [2],
      );
      assert.deepEqual((await store.auditSearch.page({ correlationId: 'corr-topology', actor: 'bot', limit: 100 })).items, []);
      assert.deepEqual((await store.auditSearch.page({ correlationId: 'corr', limit: 100 })).items, [], 'a prefix is not a match');
    });

    it('filters by a since/until window, both ends inclusive', async () => {
      const store = await makeSubject();
      await commitTrail(store);
      assert.deepEqual(sequences((await store.auditSearch.page({ since: at(2), until: at(4), limit: 100 })).items), [5, 4, 3]);
      assert.deepEqual(sequences((await store.auditSearch.page({ since: at(5), limit: 100 })).items), [7, 6]);
      assert.deepEqual(sequences((await store.auditSearch.page({ until: at(1), limit: 100 })).items), [2, 1]);
      assert.deepEqual(
        sequences(
          (await store.auditSearch.page({ since: '2024-05-01T10:03:30.000Z', until: '2024-05-01T10:03:40.000Z', limit: 100 })).items,
        ),
        [],
      );
      assert.deepEqual(
        sequences((await store.auditSearch.page({ subject: 'sip:chat@contoso.com', since: at(4), limit: 100 })).items),
        [6, 5],
      );
    });

    it('a window before the first record, after the last, or ending before it starts holds nothing', async () => {
      const store = await makeSubject();
      await commitTrail(store);
      for (const window of [{ until: '2024-05-01T09:59:59.999Z' }, { since: '2024-05-01T10:06:00.001Z' }, { since: at(5), until: at(1) }]) {
        assert.deepEqual(await store.auditSearch.page({ ...window, limit: 100 }), { items: [], nextCursor: null }, JSON.stringify(window));
      }
    });

    it('pages newest first with a cursor, every record exactly once', async () => {
      const store = await makeSubject();
      await commitTrail(store);
      const pages = await allPages((cursor) => store.auditSearch.page({ limit: 3, ...(cursor ? { cursor } : {}) }));
      assert.deepEqual(pages.map(sequences), [[7, 6, 5], [4, 3, 2], [1]]);
    });

    it('pages within a subject and within a time window', async () => {
      const store = await makeSubject();
      await commitTrail(store);
      const first = await store.auditSearch.page({ subject: 'sip:chat@contoso.com', limit: 2 });
      assert.deepEqual(sequences(first.items), [6, 5]);
      assert.deepEqual(
        sequences((await store.auditSearch.page({ subject: 'sip:chat@contoso.com', limit: 2, cursor: first.nextCursor as string })).items),
        [4],
      );

      const windowed = await store.auditSearch.page({ since: at(1), until: at(5), limit: 2 });
      assert.deepEqual(sequences(windowed.items), [6, 5]);
      const rest = await store.auditSearch.page({ since: at(1), until: at(5), limit: 2, cursor: windowed.nextCursor as string });
      assert.deepEqual(sequences(rest.items), [4, 3]);
      const last = await store.auditSearch.page({ since: at(1), until: at(5), limit: 2, cursor: rest.nextCursor as string });
      assert.deepEqual({ ...last, items: sequences(last.items) }, { items: [2], nextCursor: null });
    });

    it('refuses a cursor from another subject or a garbage cursor with a ValidationError on #/cursor', async () => {
      const store = await makeSubject();
      await commitTrail(store);
      const other = (await store.auditSearch.page({ subject: 'sip:chat@contoso.com', limit: 1 })).nextCursor as string;
      await assertRefusesCursor(store.auditSearch.page({ subject: 'sip:ocschat@contoso.com', limit: 1, cursor: other }));
      await assertRefusesCursor(store.auditSearch.page({ limit: 1, cursor: 'not a cursor' }));
    });

    it('export streams every matching record newest first, with no page limit', async () => {
      const store = await makeSubject();
      const log = await commitTrail(store);
      assert.deepEqual(await exported(store, {}), log);
      assert.deepEqual(sequences(await exported(store, { subject: 'sip:chat@contoso.com' })), [6, 5, 4]);
      assert.deepEqual(sequences(await exported(store, { actor: 'bot', outcome: 'applied' })), [4]);
      assert.deepEqual(sequences(await exported(store, { since: at(2), until: at(4) })), [5, 4, 3]);
      assert.deepEqual(sequences(await exported(store, { correlationId: 'corr-topology', until: at(1) })), [2, 1]);
      assert.deepEqual(await exported(store, { since: '2024-05-01T10:06:00.001Z' }), []);
      assert.deepEqual(await exported(store, { changeRequestId: '0190c0de-0000-7000-8000-000000000000' }), []);

      // A consumer may stop reading early.
      for await (const record of store.auditSearch.export({})) {
        assert.equal(record.sequence, 7);
        break;
      }
    });
  });
}
