import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RELIABILITY, nextRedriveAt } from '../../../shared/application/reliability';

describe('nextRedriveAt', () => {
  it('doubles the wait with each send, up to sixteen times the first', () => {
    const now = new Date('2026-11-23T00:00:00Z');
    const waits = [1, 2, 3, 4, 5, 6, 12].map((sends) => (nextRedriveAt(DEFAULT_RELIABILITY, now, sends).getTime() - now.getTime()) / 1000);
    assert.deepEqual(waits, [30, 60, 120, 240, 480, 480, 480]);
  });
});
