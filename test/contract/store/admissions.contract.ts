import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AdmissionOptions, IdempotencyRecord } from '../../../shared/application/ports/admissions';
import { retryWhileContended } from '../../../shared/application/retry';
import type { ValidChangeRequest } from '../../../shared/domain/changeRequest';
import { ConcurrencyError } from '../../../shared/domain/errors';
import { NOW, aChangeRequest, aDeleteRequest, sip } from '../../support/builders';
import type { MakeStoreSubject } from './storeSubject';

const now = new Date(NOW);
const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);

/** A waiting change request (no ticket yet) to delete the endpoint `sip:<user>@contoso.com`. */
const deleteOf = (user: string, id?: string): ValidChangeRequest =>
  aChangeRequest({ ...(id ? { id } : {}), request: aDeleteRequest({ sipAddress: sip(`sip:${user}@contoso.com`) }) });

/** Alice's Idempotency-Key `retry-1`, first used with a request of digest `fingerprint`. */
const key = (fingerprint: string, expiresAt = later(3600)): Omit<IdempotencyRecord, 'changeRequest'> => ({
  scope: 'alice',
  key: 'retry-1',
  fingerprint,
  expiresAt: expiresAt.toISOString(),
});

/**
 * The Admissions contract (shared/application/ports/admissions.ts): an admission records the request
 * with the next ticket of its SIP address, its re-drive schedule and its Idempotency-Key in one step;
 * a request id or an unexpired key already recorded answers instead; a lost race is ConcurrencyError.
 */
export function describeAdmissionsContract(name: string, makeSubject: MakeStoreSubject): void {
  describe(name, () => {
    it('draws consecutive tickets per address, records the request and its place in its waiting list, and reads the next waiting', async () => {
      const store = await makeSubject();
      const ids = ['0190c0de-0000-7000-8000-0000000000a1', '0190c0de-0000-7000-8000-0000000000a2', '0190c0de-0000-7000-8000-0000000000a3'];
      const first = await store.admissions.admit(deleteOf('chat', ids[0]), { now, redriveAt: later(30) });
      const other = await store.admissions.admit(deleteOf('other', ids[1]), { now, redriveAt: later(30) });
      const second = await store.admissions.admit(deleteOf('chat', ids[2]), { now, redriveAt: later(30) });

      assert.deepEqual(
        [first, other, second].map((a) => a.outcome === 'admitted' && a.changeRequest.ticket),
        [1, 1, 2],
      );
      assert.deepEqual(await store.queries.changeRequest(ids[2] as string), { ...deleteOf('chat', ids[2]), ticket: 2 });
      const snapshot = await store.directory.snapshot({ waitingLists: [sip('sip:chat@contoso.com'), sip('sip:nobody@contoso.com')] });
      assert.deepEqual(
        [...snapshot.nextWaiting.entries()].map(([address, next]) => [address, next.id, next.ticket]),
        [['sip:chat@contoso.com', ids[0], 1]],
      );
    });

    it('a second admission with the same id returns the first request unchanged', async () => {
      const store = await makeSubject();
      const request = deleteOf('chat', '0190c0de-0000-7000-8000-0000000000cc');
      await store.admissions.admit(request, { now, redriveAt: later(30) });
      const again = await store.admissions.admit({ ...request, actor: 'mallory' }, { now, redriveAt: later(30) });
      assert.equal(again.outcome, 'id-taken');
      assert.deepEqual(again.outcome === 'id-taken' && again.changeRequest, { ...request, ticket: 1 });
      assert.equal((await store.redrives.due(later(60), 10).then((due) => due.entries)).length, 1, 'still one place in its waiting list');
    });

    it('an unexpired Idempotency-Key returns what it admitted; an expired one is taken over', async () => {
      const store = await makeSubject();
      const firstId = '0190c0de-0000-7000-8000-0000000000e1';
      await store.admissions.admit(deleteOf('chat', firstId), { now, redriveAt: later(30), idempotency: key('f1', later(60)) });
      const retry = await store.admissions.admit(deleteOf('chat', '0190c0de-0000-7000-8000-0000000000e2'), {
        now: later(59),
        redriveAt: later(90),
        idempotency: key('f2'),
      });
      assert.equal(retry.outcome, 'key-taken');
      assert.deepEqual(retry.outcome === 'key-taken' && [retry.idempotency.fingerprint, retry.idempotency.changeRequest.id], [
        'f1',
        firstId,
      ]);
      assert.equal(await store.queries.changeRequest('0190c0de-0000-7000-8000-0000000000e2'), undefined, 'nothing admitted for the retry');

      const afterExpiry = await store.admissions.admit(deleteOf('chat', '0190c0de-0000-7000-8000-0000000000e3'), {
        now: later(61),
        redriveAt: later(90),
        idempotency: key('f3'),
      });
      assert.equal(afterExpiry.outcome, 'admitted');
      assert.equal(afterExpiry.outcome === 'admitted' && afterExpiry.changeRequest.ticket, 2);
    });

    it('one Idempotency-Key used by two callers admits a request for each', async () => {
      const store = await makeSubject();
      const alice = await store.admissions.admit(deleteOf('chat'), { now, redriveAt: later(30), idempotency: key('f') });
      const bob = await store.admissions.admit(deleteOf('chat'), { now, redriveAt: later(30), idempotency: { ...key('f'), scope: 'bob' } });
      assert.deepEqual([alice.outcome, bob.outcome], ['admitted', 'admitted']);
    });

    it('an attempt that loses a race throws ConcurrencyError and records nothing; every other one is admitted with a ticket of its own', async () => {
      const store = await makeSubject();
      const requests = Array.from({ length: 5 }, () => deleteOf('chat'));
      const outcomes = await Promise.allSettled(requests.map((request) => store.admissions.admit(request, { now, redriveAt: later(30) })));

      const tickets = outcomes.flatMap((o) =>
        o.status === 'fulfilled' && o.value.outcome === 'admitted' ? [o.value.changeRequest.ticket] : [],
      );
      const lost = outcomes.flatMap((o, i) =>
        o.status === 'rejected' ? [{ error: o.reason as unknown, id: requests[i]?.id as string }] : [],
      );
      assert.equal(tickets.length + lost.length, requests.length, 'each attempt is admitted or lost');
      assert.deepEqual(
        [...tickets].sort((a, b) => a - b),
        tickets.map((_, i) => i + 1),
      );
      for (const { error, id } of lost) {
        assert.ok(error instanceof ConcurrencyError, `a lost race is ConcurrencyError, got ${String(error)}`);
        assert.equal(await store.queries.changeRequest(id), undefined);
      }
      assert.equal((await store.redrives.due(later(60), 10).then((due) => due.entries)).length, tickets.length);
    });

    it('20 concurrent admissions of one address, each retried while contended, draw tickets 1..20 with none lost', async () => {
      const store = await makeSubject();
      // Each admission retries its lost races, as the use case does (without its in-process turns, so storage decides every race).
      const admit = (request: ValidChangeRequest, options: AdmissionOptions) =>
        retryWhileContended(() => store.admissions.admit(request, options));
      const results = await Promise.all(Array.from({ length: 20 }, () => admit(deleteOf('chat'), { now, redriveAt: later(30) })));
      assert.deepEqual(
        results.map((r) => (r.outcome === 'admitted' ? r.changeRequest.ticket : 0)).sort((a, b) => (a ?? 0) - (b ?? 0)),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
    });

    it('20 concurrent admissions with one Idempotency-Key, each retried while contended, admit one request and all answer with it', async () => {
      const store = await makeSubject();
      const admit = (request: ValidChangeRequest, options: AdmissionOptions) =>
        retryWhileContended(() => store.admissions.admit(request, options));
      const keyed = await Promise.all(
        Array.from({ length: 20 }, () => admit(deleteOf('keyed'), { now, redriveAt: later(30), idempotency: key('same') })),
      );
      const admitted = keyed.filter((r) => r.outcome === 'admitted');
      assert.equal(admitted.length, 1);
      const admittedId = admitted[0]?.outcome === 'admitted' ? admitted[0].changeRequest.id : '';
      assert.deepEqual(
        new Set(
          keyed.map((r) =>
            r.outcome === 'key-taken' ? r.idempotency.changeRequest.id : r.outcome === 'admitted' ? r.changeRequest.id : 'other',
          ),
        ),
        new Set([admittedId]),
      );
      const waiting = (await store.redrives.due(later(60), 100).then((due) => due.entries)).filter(
        (entry) => entry.changeRequest.request.sipAddress === 'sip:keyed@contoso.com',
      );
      assert.equal(waiting.length, 1, 'one place in the waiting list');
    });

    it('purges only expired Idempotency-Keys; a key taken over after expiry survives the purge of its old entry', async () => {
      const store = await makeSubject();
      await store.admissions.admit(deleteOf('a'), {
        now,
        redriveAt: later(30),
        idempotency: { ...key('f'), key: 'old', expiresAt: later(10).toISOString() },
      });
      await store.admissions.admit(deleteOf('b'), {
        now,
        redriveAt: later(30),
        idempotency: { ...key('f'), key: 'new', expiresAt: later(100).toISOString() },
      });
      await store.admissions.admit(deleteOf('c'), {
        now,
        redriveAt: later(30),
        idempotency: { ...key('f'), key: 'reused', expiresAt: later(20).toISOString() },
      });
      const takeover = await store.admissions.admit(deleteOf('c'), {
        now: later(25),
        redriveAt: later(60),
        idempotency: { ...key('g'), key: 'reused', expiresAt: later(200).toISOString() },
      });
      assert.equal(takeover.outcome, 'admitted');

      assert.equal(await store.admissions.purgeExpiredIdempotencyKeys(later(50), 10), 1, 'only "old"');
      assert.equal(await store.admissions.purgeExpiredIdempotencyKeys(later(50), 10), 0);
      const live = await store.admissions.admit(deleteOf('b'), {
        now: later(50),
        redriveAt: later(90),
        idempotency: { ...key('f'), key: 'new', expiresAt: later(250).toISOString() },
      });
      assert.equal(live.outcome, 'key-taken', 'the live key was not purged');
      const retry = await store.admissions.admit(deleteOf('c'), {
        now: later(50),
        redriveAt: later(90),
        idempotency: { ...key('g'), key: 'reused', expiresAt: later(250).toISOString() },
      });
      assert.equal(retry.outcome, 'key-taken', 'the taken-over key still answers');
      assert.equal(await store.admissions.purgeExpiredIdempotencyKeys(later(300), 10), 2);
    });

    it('purges at most limit expired keys at a time', async () => {
      const store = await makeSubject();
      for (const name of ['k1', 'k2', 'k3']) {
        await store.admissions.admit(deleteOf(name), {
          now,
          redriveAt: later(30),
          idempotency: { ...key('f'), key: name, expiresAt: later(10).toISOString() },
        });
      }
      assert.equal(await store.admissions.purgeExpiredIdempotencyKeys(later(50), 2), 2);
      assert.equal(await store.admissions.purgeExpiredIdempotencyKeys(later(50), 2), 1);
      assert.equal(await store.admissions.purgeExpiredIdempotencyKeys(later(50), 2), 0);
    });
  });
}
