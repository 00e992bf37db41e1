import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { changeRequestIdForMessage, EndpointChangeMessageSchema } from '../../../../shared/application/changeRequests/messages';

describe('EndpointChangeMessageSchema', () => {
  it('accepts a direct automation message when it has no changeRequestId', () => {
    const message = {
      schemaVersion: 1,
      operation: 'create',
      sipAddress: 'sip:Chat@contoso.com',
      poolFqdn: 'pcpool.contoso.com',
      actor: 'provisioning-bot',
    };

    const parsed = EndpointChangeMessageSchema.parse(message);

    assert.deepEqual(parsed, { ...message, sipAddress: 'sip:chat@contoso.com' });
  });

  it('accepts a delete message when it carries the envelope fields', () => {
    const message = {
      schemaVersion: 1,
      operation: 'delete',
      sipAddress: 'sip:chat@contoso.com',
      changeRequestId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
      correlationId: 'corr-1',
    };

    assert.deepEqual(EndpointChangeMessageSchema.parse(message), message);
  });

  for (const schemaVersion of [2, 0, '1', undefined]) {
    it(`rejects at schemaVersion when schemaVersion is ${JSON.stringify(schemaVersion)}`, () => {
      const result = EndpointChangeMessageSchema.safeParse({ schemaVersion, operation: 'delete', sipAddress: 'sip:chat@contoso.com' });

      assert.equal(result.success, false);
      assert.deepEqual(
        result.error?.issues.map((i) => [i.path.join('.'), i.message]),
        [['schemaVersion', 'must be 1']],
      );
    });
  }

  it('rejects at changeRequestId when it is not a UUID', () => {
    const result = EndpointChangeMessageSchema.safeParse({
      schemaVersion: 1,
      operation: 'delete',
      sipAddress: 'sip:chat@contoso.com',
      changeRequestId: 'cr-1',
    });

    assert.deepEqual(
      result.error?.issues.map((i) => i.path.join('.')),
      ['changeRequestId'],
    );
  });
});

describe('changeRequestIdForMessage', () => {
  it('returns the same id when called twice for the same queue and message id', () => {
    assert.equal(changeRequestIdForMessage('endpoint-create', 'msg-1'), changeRequestIdForMessage('endpoint-create', 'msg-1'));
  });

  it('returns different ids when the message id differs', () => {
    assert.notEqual(changeRequestIdForMessage('endpoint-create', 'msg-1'), changeRequestIdForMessage('endpoint-create', 'msg-2'));
  });

  it('returns different ids when the queue differs', () => {
    assert.notEqual(changeRequestIdForMessage('endpoint-create', 'msg-1'), changeRequestIdForMessage('endpoint-delete', 'msg-1'));
  });

  it('returns a version-8 UUID that z.uuid() accepts when given any ids', () => {
    for (const messageId of ['msg-1', 'msg-2', '', 'ünïcode', 'x'.repeat(1000)]) {
      const id = changeRequestIdForMessage('endpoint-create', messageId);

      assert.equal(z.uuid().safeParse(id).success, true, id);
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });
});
