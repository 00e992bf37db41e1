import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DELIVERY_POLICY, nextRedriveAt } from '../../../shared/application/deliveryPolicy';

describe('nextRedriveAt', () => {
  it('doubles the wait with each send, up to sixteen times the first', () => {
    const now = new Date('2026-11-23T00:00:00Z');
    const waits = [1, 2, 3, 4, 5, 6, 12].map(
      (sends) => (nextRedriveAt(DEFAULT_DELIVERY_POLICY, now, sends).getTime() - now.getTime()) / 1000,
    );
    assert.deepEqual(waits, [30, 60, 120, 240, 480, 480, 480]);
  });
});
