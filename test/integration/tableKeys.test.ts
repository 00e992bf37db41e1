import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { conflictKey } from '../../shared/adapters/tables/canonicalAddressMigration';
import {
  HASHED_KEY_PART_MARK,
  MAX_KEY_PART_LENGTH,
  keyPart,
  rowKeys,
  type AuditIndex,
  type ChangeRequestIndex,
} from '../../shared/adapters/tables/rowKeys';
import { verifyAuditLog } from '../../shared/application/audit/verifyAuditLog';
import type { AuditRecord } from '../../shared/domain/audit';
import type { Fqdn, SipAddress } from '../../shared/domain/names';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { EMPTY_STORE, aCommit, anAuditDraft } from '../support/builders';
import { newTableStore } from '../support/storeHarness';

// Azure Table keys hold at most 1 KiB; Azurite enforces it as 512 characters, and so do we.
const KEY_LIMIT = 512;

const LONGEST_READABLE = 'a'.repeat(MAX_KEY_PART_LENGTH);
const LONE_SURROGATE = 'bot-\uD800';
/** 300 characters of three UTF-8 bytes each: nine URI-escape characters apiece once encoded. */
const MULTIBYTE_300 = '\u20AC'.repeat(300);
const MAX_SEQUENCE = 999_999_999_999_999;
/** A snapshot that reads only the head. */
const NOTHING = { domains: [], pools: [], addresses: [], changeRequests: [], waitingLists: [] };

describe('keyPart', () => {
  it('keeps a short well-formed value URI-encoded, as keys were always written', () => {
    assert.equal(keyPart('admin@contoso.com'), 'admin%40contoso.com');
    assert.equal(keyPart(LONGEST_READABLE), LONGEST_READABLE);
  });

  it('hashes a value whose encoding is one character over the bound, and one with a lone surrogate, instead of throwing', () => {
    for (const value of [`${LONGEST_READABLE}a`, 'a'.repeat(MAX_KEY_PART_LENGTH - 2) + '@', LONE_SURROGATE, '\uDC00', MULTIBYTE_300]) {
      const part = keyPart(value);
      assert.match(part, /^sha256=[0-9a-f]{64}$/, JSON.stringify(value.slice(0, 20)));
    }
  });

  it('keeps distinct values distinct when they are hashed, lone surrogates included', () => {
    const values = ['\uD800', '\uD801', '\uDC00', '\uFFFD', `\uD800${LONGEST_READABLE}`, `\uDC00${LONGEST_READABLE}`];

    assert.equal(new Set(values.map(keyPart)).size, values.length);
  });

  it('never yields a hashed form for an encoded value: the marker holds =, which encodeURIComponent never emits', () => {
    assert.ok(HASHED_KEY_PART_MARK.includes('='));
    assert.equal(keyPart(`${HASHED_KEY_PART_MARK}${'0'.repeat(64)}`), `sha256%3D${'0'.repeat(64)}`);
  });
});

describe('every row key on Azurite: bounded, whatever the value', () => {
  let azurite: TestAzurite;
  before(async () => {
    azurite = await startTestAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });

  // The worst case of each value: the longest part kept readable, or a value that is hashed.
  const worstValues = [LONGEST_READABLE, LONE_SURROGATE, MULTIBYTE_300];
  const worstAddress = (value: string) => `sip:${value}@${LONGEST_READABLE}` as SipAddress;
  const dimensions: AuditIndex[] = ['actor', 'type', 'outcome', 'changeRequest', 'correlation'];

  /** Every key kind, from a worst-case value. */
  const keysFrom = (value: string): Record<string, string> => ({
    head: rowKeys.head,
    domain: rowKeys.domain(value as Fqdn),
    pool: rowKeys.pool(value as Fqdn),
    address: rowKeys.address(worstAddress(value)),
    changeRequest: rowKeys.changeRequest(value),
    audit: rowKeys.audit(MAX_SEQUENCE),
    checkpoint: rowKeys.checkpoint(MAX_SEQUENCE),
    auditBySubject: rowKeys.auditBySubject(value, 1),
    ...Object.fromEntries(dimensions.map((dimension) => [`auditIndex ${dimension}`, rowKeys.auditIndex(dimension, value, 1)])),
    outbox: rowKeys.outbox(MAX_SEQUENCE),
    lastTicket: rowKeys.lastTicket(worstAddress(value)),
    waiting: rowKeys.waiting(worstAddress(value), MAX_SEQUENCE),
    idempotencyKey: rowKeys.idempotencyKey(value, value),
    idempotencyExpiry: rowKeys.idempotencyExpiry(new Date(8.64e15).toISOString(), value, value),
    ...Object.fromEntries(
      (
        [
          { index: 'all' },
          { index: 'actor', actor: value },
          { index: 'status', status: value },
          { index: 'address', sipAddress: worstAddress(value) },
          { index: 'operation', operation: value },
        ] as ChangeRequestIndex[]
      ).map((index) => [`changeRequestIndexed ${index.index}`, rowKeys.changeRequestIndexed(index, '2026-01-01T00:00:00.000Z', value)]),
    ),
    conflict: conflictKey(rowKeys.waiting(worstAddress(value), MAX_SEQUENCE), rowKeys.waiting(worstAddress(value), MAX_SEQUENCE)),
  });

  it('builds every key kind within the limit and the documented lengths, and Azurite stores and reads back each', async () => {
    const { table } = await newTableStore(azurite.connectionString);
    let longest = 0;
    let longestListing = 0;
    for (const value of worstValues) {
      for (const [kind, rowKey] of Object.entries(keysFrom(value))) {
        // rowKeys.ts: pending|<200>|<200>|<15> = 425 is the longest key but a listing's, a conflict row 451,
        // and crix|address|<200>|<200>|<15>|<64> = 495 the longest of all.
        const bound = kind === 'conflict' ? 451 : kind.startsWith('changeRequestIndexed') ? 495 : 425;
        assert.ok(rowKey.length <= bound, `${kind}: ${rowKey.length} characters`);
        assert.ok(rowKey.length < KEY_LIMIT);
        if (kind === 'changeRequestIndexed address') longestListing = Math.max(longestListing, rowKey.length);
        else longest = Math.max(longest, kind === 'conflict' ? 0 : rowKey.length);
        await table.upsertEntity({ partitionKey: 'default', rowKey, kind }, 'Replace');
        assert.equal((await table.getEntity<{ kind: string }>('default', rowKey)).kind, kind);
      }
    }
    assert.equal(longest, 425, 'the worst case is reached: the bound is exercised, not just respected');
    assert.equal(longestListing, 495, "the listings' worst case is reached too");
  });
});

describe('audit indexes with values that are hashed into their keys', () => {
  let azurite: TestAzurite;
  before(async () => {
    azurite = await startTestAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });

  it('finds by actor, correlation id and subject the records whose values hold a lone surrogate or 300 multibyte characters', async () => {
    const { table: _table, ...store } = await newTableStore(azurite.connectionString);
    const subject = `sip:${'\u00E9'.repeat(120)}@contoso.com`;
    const commit = aCommit(EMPTY_STORE, {
      drafts: [
        anAuditDraft({ actor: LONE_SURROGATE, correlationId: 'corr-plain' }),
        anAuditDraft({ actor: 'admin@contoso.com', correlationId: MULTIBYTE_300, subject }),
        anAuditDraft({ actor: 'someone-else', correlationId: 'corr-other' }),
      ],
    });
    await store.directory.commit(commit);
    const [surrogateRecord, multibyteRecord] = commit.audit as [AuditRecord, AuditRecord];

    const byActor = await store.auditSearch.page({ actor: LONE_SURROGATE, limit: 10 });
    const byCorrelation = await store.auditSearch.page({ correlationId: MULTIBYTE_300, limit: 10 });
    const bySubject = await store.auditSearch.page({ subject, limit: 10 });
    const exported: AuditRecord[] = [];
    for await (const record of store.auditSearch.export({ correlationId: MULTIBYTE_300 })) exported.push(record);

    assert.deepEqual(byActor, { items: [surrogateRecord], nextCursor: null });
    assert.deepEqual(byCorrelation, { items: [multibyteRecord], nextCursor: null });
    assert.deepEqual(bySubject, { items: [multibyteRecord], nextCursor: null });
    assert.deepEqual(exported, [multibyteRecord]);
    assert.equal((await verifyAuditLog(store)).intact, true);
  });

  it('stores text holding U+2028 and U+2029 in a transaction, reads it back unchanged, and the next transaction still commits', async () => {
    const { table: _table, ...store } = await newTableStore(azurite.connectionString);
    const separated = { displayName: 'Legacy\u2028Group\u2029Chat' };
    const first = aCommit(EMPTY_STORE, { drafts: [anAuditDraft({ after: separated })] });
    await store.directory.commit(first);

    const second = aCommit(await store.directory.snapshot(NOTHING), { drafts: [anAuditDraft()] });
    await store.directory.commit(second);

    assert.deepEqual(
      (await store.auditSearch.page({ limit: 10 })).items.map((r) => r.after),
      [second.audit[0]?.after, separated],
    );
    assert.equal((await verifyAuditLog(store)).intact, true);
  });
});
