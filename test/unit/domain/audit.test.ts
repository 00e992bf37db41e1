import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendToChain,
  AuditAction,
  canonicalJson,
  GENESIS_HEAD,
  hashAuditRecord,
  type AuditDraft,
  type AuditRecord,
} from '../../../shared/domain/audit';

function aDraft(overrides: Partial<AuditDraft> = {}): AuditDraft {
  return {
    id: 'audit-1',
    actor: 'admin@contoso.com',
    action: AuditAction.endpointCreated,
    subject: 'sip:chat@contoso.com',
    changeRequestId: 'cr-1',
    correlationId: 'corr-1',
    causationId: null,
    outcome: { status: 'applied' },
    before: null,
    after: { sipAddress: 'sip:chat@contoso.com' },
    ...overrides,
  };
}

function unhashed(record: AuditRecord): Omit<AuditRecord, 'hash'> {
  const { hash: _hash, ...rest } = record;
  return rest;
}

describe('appendToChain', () => {
  it('numbers records consecutively from the head when several drafts are appended', () => {
    const head = { sequence: 41, hash: 'a'.repeat(64), time: '2024-05-01T09:00:00.000Z' };

    const { records, head: next } = appendToChain(
      head,
      [aDraft({ id: 'a' }), aDraft({ id: 'b' }), aDraft({ id: 'c' })],
      new Date('2024-05-01T10:00:00.000Z'),
    );

    assert.deepEqual(
      records.map((r) => r.sequence),
      [42, 43, 44],
    );
    assert.deepEqual(next, { sequence: 44, hash: records[2]?.hash, time: '2024-05-01T10:00:00.000Z' });
  });

  it('links each record to the hash of the one before when appended to the genesis head', () => {
    const { records } = appendToChain(GENESIS_HEAD, [aDraft({ id: 'a' }), aDraft({ id: 'b' })], new Date('2024-05-01T10:00:00.000Z'));

    assert.equal(records[0]?.previousHash, '0'.repeat(64));
    assert.equal(records[1]?.previousHash, records[0]?.hash);
    for (const record of records) assert.equal(record.hash, hashAuditRecord(unhashed(record)));
  });

  it('keeps the head time when the clock is behind the head', () => {
    const head = { sequence: 7, hash: 'b'.repeat(64), time: '2024-05-01T10:00:05.000Z' };

    const { records, head: next } = appendToChain(head, [aDraft()], new Date('2024-05-01T10:00:00.000Z'));

    assert.equal(records[0]?.time, '2024-05-01T10:00:05.000Z');
    assert.equal(next.time, '2024-05-01T10:00:05.000Z');
  });

  it('returns the head unchanged when there are no drafts', () => {
    const { records, head } = appendToChain(GENESIS_HEAD, [], new Date('2024-05-01T10:00:00.000Z'));

    assert.deepEqual(records, []);
    assert.deepEqual(head, GENESIS_HEAD);
  });
});

describe('hashAuditRecord', () => {
  const [base] = appendToChain(GENESIS_HEAD, [aDraft()], new Date('2024-05-01T10:00:00.000Z')).records;
  const record = unhashed(base as AuditRecord);
  const changes: Record<keyof typeof record, unknown> = {
    id: 'audit-2',
    actor: 'someone-else',
    onBehalfOf: 'provisioning-bot',
    action: AuditAction.endpointDeleted,
    subject: 'sip:other@contoso.com',
    changeRequestId: null,
    correlationId: 'corr-2',
    causationId: 'cause-1',
    outcome: { status: 'rejected', code: 'pool_not_found', message: 'no pool' },
    before: { sipAddress: 'sip:chat@contoso.com' },
    after: { sipAddress: 'sip:chat@contoso.org' },
    sequence: 2,
    time: '2024-05-01T10:00:00.001Z',
    previousHash: '1'.repeat(64),
  };

  it('is the same when onBehalfOf is absent or undefined, so records from before it existed verify unchanged', () => {
    assert.equal(hashAuditRecord({ ...record, onBehalfOf: undefined }), hashAuditRecord(record));
    assert.equal(Object.hasOwn(record, 'onBehalfOf'), false);
  });

  it('is a 64-digit hex SHA-256 when given a record', () => {
    assert.match(hashAuditRecord(record), /^[0-9a-f]{64}$/);
  });

  for (const [field, value] of Object.entries(changes)) {
    it(`changes when ${field} changes`, () => {
      const changed = { ...record, [field]: value };

      assert.notEqual(hashAuditRecord(changed), hashAuditRecord(record));
    });
  }
});

describe('canonicalJson', () => {
  it('serializes the same when keys are in a different order at any depth', () => {
    const a = { b: 1, a: { y: [1, { q: 2, p: 1 }], x: 'x' } };
    const b = { a: { x: 'x', y: [1, { p: 1, q: 2 }] }, b: 1 };

    assert.equal(canonicalJson(a), canonicalJson(b));
    assert.equal(canonicalJson(a), '{"a":{"x":"x","y":[1,{"p":1,"q":2}]},"b":1}');
  });

  it('omits undefined properties and keeps nulls when an object has both', () => {
    assert.equal(canonicalJson({ b: undefined, a: null }), '{"a":null}');
  });

  it('keeps array order when arrays differ only in order', () => {
    assert.notEqual(canonicalJson([1, 2]), canonicalJson([2, 1]));
  });
});
