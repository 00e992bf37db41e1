import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { messageMetadataOf } from '../../../../shared/entrypoints/queue/endpointChangeMessages';

describe('messageMetadataOf', () => {
  it('reads the message id and which delivery this is from either transport', () => {
    assert.deepEqual(messageMetadataOf({ id: 'storage-1', dequeueCount: 3 }, 'endpoint-create', 'invocation'), {
      messageId: 'storage-1',
      queueName: 'endpoint-create',
      deliveryCount: 3,
    });
    assert.deepEqual(messageMetadataOf({ messageId: 'bus-1', deliveryCount: 5 }, 'endpoint-delete', 'invocation'), {
      messageId: 'bus-1',
      queueName: 'endpoint-delete',
      deliveryCount: 5,
    });
  });

  it('falls back to the invocation id and a first delivery when the trigger says nothing usable', () => {
    assert.deepEqual(messageMetadataOf(undefined, 'q', 'invocation'), { messageId: 'invocation', queueName: 'q', deliveryCount: 1 });
    assert.deepEqual(messageMetadataOf({ id: '', dequeueCount: 'x' }, 'q', 'invocation'), {
      messageId: 'invocation',
      queueName: 'q',
      deliveryCount: 1,
    });
  });
});
