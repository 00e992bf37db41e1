import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimiter } from '../../../shared/application/rateLimiter';

/** A clock the test moves by hand. */
function manualClock(start = Date.parse('2026-11-26T08:00:00Z')) {
  let now = start;
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
}

describe('RateLimiter', () => {
  it('allows a burst of `limit`, then refuses with the seconds until the next take', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ limit: 3, windowMs: 60_000 }, clock);
    assert.deepEqual([limiter.take('alice'), limiter.take('alice'), limiter.take('alice')], Array(3).fill({ allowed: true }));
    assert.deepEqual(limiter.take('alice'), { allowed: false, retryAfterSeconds: 20 });
  });

  it('refills at limit per window, never above the limit', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ limit: 2, windowMs: 10_000 }, clock);
    limiter.take('alice');
    limiter.take('alice');
    clock.advance(5_000);
    assert.deepEqual(limiter.take('alice'), { allowed: true });
    assert.equal(limiter.take('alice').allowed, false);
    clock.advance(3_600_000);
    assert.deepEqual(
      [limiter.take('alice'), limiter.take('alice'), limiter.take('alice').allowed],
      [{ allowed: true }, { allowed: true }, false],
    );
  });

  it('counts each caller on its own', () => {
    const limiter = new RateLimiter({ limit: 1, windowMs: 60_000 }, manualClock());
    assert.deepEqual(limiter.take('alice'), { allowed: true });
    assert.equal(limiter.take('alice').allowed, false);
    assert.deepEqual(limiter.take('bob'), { allowed: true });
  });

  it('keeps answering correctly after sweeping refilled callers', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ limit: 1, windowMs: 1_000 }, clock);
    for (let i = 0; i < 10_001; i++) limiter.take(`caller-${i}`);
    clock.advance(1_000);
    assert.deepEqual(limiter.take('late'), { allowed: true }, 'the take that triggers the sweep');
    assert.deepEqual(limiter.take('caller-0'), { allowed: true }, 'a swept caller starts full');
    assert.equal(limiter.take('late').allowed, false);
  });
});
