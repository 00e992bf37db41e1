import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { selectiveKeyFirst } from '../../support/azurite';

// LokiJS uses an index for the first key of a query object only; Azurite 3.35 put PartitionKey (or
// accountName) first, so every lookup walked the partition (see test/support/azurite.ts).
describe("the test Azurite's lookup order", () => {
  it('puts RowKey before PartitionKey, keeping both values', () => {
    const query = selectiveKeyFirst({ PartitionKey: 'default', RowKey: 'audit/00000000000000000042' });
    assert.deepEqual(Object.entries(query), [
      ['RowKey', 'audit/00000000000000000042'],
      ['PartitionKey', 'default'],
    ]);
  });

  it("puts a queue's name and a message's id before the account, as Azurite 3.36 does", () => {
    assert.deepEqual(Object.keys(selectiveKeyFirst({ accountName: 'devstoreaccount1', name: 'endpoint-create' })), ['name', 'accountName']);
    assert.deepEqual(Object.keys(selectiveKeyFirst({ accountName: 'devstoreaccount1', queueName: 'q', messageId: 'm1' })), [
      'messageId',
      'accountName',
      'queueName',
    ]);
  });

  it('leaves a query without a selective key as it was', () => {
    assert.deepEqual(Object.entries(selectiveKeyFirst({ account: 'devstoreaccount1', table: 'directory' })), [
      ['account', 'devstoreaccount1'],
      ['table', 'directory'],
    ]);
  });
});
