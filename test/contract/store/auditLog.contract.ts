import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GENESIS_HEAD, type AuditRecord } from '../../../shared/domain/audit';
import type { PositionedRecord } from '../../../shared/domain/auditVerification';
import { EMPTY_STORE, aCheckpoint, aCommit, anAuditDraft } from '../../support/builders';
import type { MakeStoreSubject, StoreSubject } from './storeSubject';

/** The whole log as `records()` streams it. */
async function recordsOf(store: StoreSubject): Promise<PositionedRecord[]> {
  const records: PositionedRecord[] = [];
  for await (const positioned of store.auditLog.records()) records.push(positioned);
  return records;
}

/** Commits three audit records, two in the first commit and one in the second; returns them oldest first. */
async function threeRecords(store: StoreSubject): Promise<{ records: AuditRecord[]; head: AuditRecord }> {
  const first = aCommit(EMPTY_STORE, {
    drafts: [anAuditDraft({ subject: 'sip-domain:contoso.com' }), anAuditDraft({ subject: 'sip-domain:fabrikam.com' })],
  });
  await store.directory.commit(first);
  const second = aCommit(await store.directory.snapshot({}), { drafts: [anAuditDraft({ subject: 'sip-domain:northwind.com' })] });
  await store.directory.commit(second);
  const records = [...first.audit, ...second.audit];
  return { records, head: records[2] as AuditRecord };
}

/**
 * The AuditLog contract (shared/application/ports/auditLog.ts): the head the next record links to,
 * the whole log newest first with the position each record is stored at, and signed checkpoints,
 * newest first, of which the first stored for a sequence is kept.
 */
export function describeAuditLogContract(name: string, makeSubject: MakeStoreSubject): void {
  describe(name, () => {
    it('an empty log has the genesis head, no records and no checkpoints', async () => {
      const store = await makeSubject();
      assert.deepEqual(await store.auditLog.head(), GENESIS_HEAD);
      assert.deepEqual(await recordsOf(store), []);
      assert.deepEqual(await store.auditLog.checkpoints(), []);
    });

    it('the head is what the last commit chained its records to', async () => {
      const store = await makeSubject();
      const { head } = await threeRecords(store);
      assert.deepEqual(await store.auditLog.head(), { sequence: 3, hash: head.hash, time: head.time });
    });

    it('records streams every record newest first, exactly as committed, each at its sequence as position', async () => {
      const store = await makeSubject();
      const { records } = await threeRecords(store);
      assert.deepEqual(
        await recordsOf(store),
        [...records].reverse().map((record) => ({ position: record.sequence, record })),
      );
    });

    it('checkpoints come newest first, at most limit of them, with their key id and algorithm (a v1 one without)', async () => {
      const store = await makeSubject();
      const one = aCheckpoint({ sequence: 1, hash: '1'.repeat(64) });
      const two = aCheckpoint({
        sequence: 2,
        hash: '2'.repeat(64),
        keyId: 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k',
        algorithm: 'EdDSA',
      });
      const three = aCheckpoint({
        sequence: 3,
        hash: '3'.repeat(64),
        keyId: `https://contoso-audit.vault.azure.net/keys/audit-signing/${'0'.repeat(32)}`,
        algorithm: 'ES256',
      });
      for (const checkpoint of [two, three, one]) await store.auditLog.addCheckpoint(checkpoint);
      assert.deepEqual(await store.auditLog.checkpoints(), [three, two, one]);
      assert.deepEqual(await store.auditLog.checkpoints(2), [three, two]);
      assert.deepEqual(await store.auditLog.checkpoints(1), [three]);
    });

    it('a second checkpoint for one sequence keeps the first', async () => {
      const store = await makeSubject();
      const first = aCheckpoint({ sequence: 5, signature: 'Zmlyc3Q' });
      await store.auditLog.addCheckpoint(first);
      await store.auditLog.addCheckpoint(aCheckpoint({ sequence: 5, hash: 'b'.repeat(64), signature: 'c2Vjb25k' }));
      assert.deepEqual(await store.auditLog.checkpoints(), [first]);
    });
  });
}
