import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ScheduledRedrive } from '../../../shared/application/ports/redriveSchedule';
import { AuditAction } from '../../../shared/domain/audit';
import type { ChangeRequest } from '../../../shared/domain/changeRequest';
import { NOW, aChangeRequest, aCommit, aDeleteRequest, anAuditDraft, sip } from '../../support/builders';
import type { MakeStoreSubject } from './storeSubject';

const now = new Date(NOW);
const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);

/** A change request to delete the endpoint `sip:<user>@contoso.com`. */
const deleteOf = (user: string, id?: string) =>
  aChangeRequest({ ...(id ? { id } : {}), request: aDeleteRequest({ sipAddress: sip(`sip:${user}@contoso.com`) }) });

/**
 * The RedriveSchedule contract (shared/application/ports/redriveSchedule.ts): admission enters a
 * request, the commit that settles it removes it; `due` lists what waits past its re-drive time, and
 * `postpone` counts a send and moves the time, leaving a request settled meanwhile out.
 */
export function describeRedriveScheduleContract(name: string, makeSubject: MakeStoreSubject): void {
  describe(name, () => {
    it('an entry holds the request as admitted, its re-drive time and its sends; postpone counts a send and moves the time', async () => {
      const store = await makeSubject();
      const request = deleteOf('chat');
      await store.admissions.admit(request, { now, redriveAt: later(30) });
      const [entry] = await store.redrives.due(later(31), 10).then((due) => due.entries);
      assert.deepEqual(entry, { changeRequest: { ...request, ticket: 1 }, redriveAt: later(30).toISOString(), sends: 1 });

      await store.redrives.postpone(entry, later(90));
      assert.deepEqual(await store.redrives.due(later(89), 10).then((due) => due.entries), [], 'not due before its new time');
      assert.deepEqual(await store.redrives.due(later(91), 10).then((due) => due.entries), [
        { changeRequest: { ...request, ticket: 1 }, redriveAt: later(90).toISOString(), sends: 2 },
      ]);
    });

    it('due lists the oldest ticket of an address first, and at most limit entries', async () => {
      const store = await makeSubject();
      const requests = [deleteOf('chat'), deleteOf('chat'), deleteOf('chat')];
      for (const request of requests) await store.admissions.admit(request, { now, redriveAt: later(30) });
      assert.deepEqual(
        (await store.redrives.due(later(60), 10).then((due) => due.entries)).map((entry) => [
          entry.changeRequest.id,
          entry.changeRequest.ticket,
        ]),
        requests.map((request, i) => [request.id, i + 1]),
      );
      assert.deepEqual(
        (await store.redrives.due(later(60), 2).then((due) => due.entries)).map((entry) => entry.changeRequest.ticket),
        [1, 2],
      );
    });

    it('a settling commit takes a request out of the schedule; due lists only requests due, and postponing a settled one does not revive it', async () => {
      const store = await makeSubject();
      const a = deleteOf('a', '0190c0de-0000-7000-8000-0000000000f1');
      const b = deleteOf('b', '0190c0de-0000-7000-8000-0000000000f2');
      await store.admissions.admit(a, { now, redriveAt: later(30) });
      await store.admissions.admit(b, { now, redriveAt: later(90) });
      assert.deepEqual(
        (await store.redrives.due(later(60), 10).then((due) => due.entries)).map((p) => [
          p.changeRequest.id,
          p.changeRequest.ticket,
          p.sends,
        ]),
        [[a.id, 1, 1]],
      );

      const [due] = await store.redrives.due(later(60), 10).then((due) => due.entries);
      await store.redrives.postpone(due as ScheduledRedrive, later(120));
      assert.deepEqual(
        (await store.redrives.due(later(100), 10).then((due) => due.entries)).map((p) => p.changeRequest.id),
        [b.id],
      );
      assert.deepEqual(
        (await store.redrives.due(later(130), 10).then((due) => due.entries)).map((p) => [p.changeRequest.id, p.sends]),
        [
          [a.id, 2],
          [b.id, 1],
        ],
      );

      const base = await store.directory.snapshot({});
      const settled: ChangeRequest = { ...a, ticket: 1, status: 'rejected', completedAt: NOW, auditSequence: 1 };
      await store.directory.commit(
        aCommit(base, {
          drafts: [anAuditDraft({ action: AuditAction.endpointDeleteRejected, subject: a.request.sipAddress })],
          changeRequests: [settled],
        }),
      );
      assert.deepEqual(
        (await store.redrives.due(later(130), 10).then((due) => due.entries)).map((p) => p.changeRequest.id),
        [b.id],
      );
      await store.redrives.postpone(due as ScheduledRedrive, later(500));
      assert.deepEqual(
        (await store.redrives.due(later(1000), 10).then((due) => due.entries)).map((p) => p.changeRequest.id),
        [b.id],
        'the settled request stays out of the schedule',
      );
    });
  });
}
