import type { Clock } from './ports/system';

/** A rate: at most `limit` takes per `windowMs`, sustained, with bursts up to `limit`. */
export interface Rate {
  limit: number;
  windowMs: number;
}

/** Whether a take is allowed, and if not, how long until it would be. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Above this many callers tracked, buckets that have refilled (and so say nothing) are dropped. */
const SWEEP_ABOVE = 10_000;

/**
 * Per-caller token buckets of one process: each caller holds up to `limit` tokens, refilled at
 * `limit / windowMs`, and each take spends one. O(1) per take and bounded memory, unlike a log of
 * timestamps per caller. Per instance by design: a scaled-out app allows `limit` per instance.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly refillPerMs: number;

  constructor(
    private readonly rate: Rate,
    private readonly clock: Clock,
  ) {
    this.refillPerMs = rate.limit / rate.windowMs;
  }

  /** Spends one of `caller`'s tokens, or says how many whole seconds until one is back. */
  take(caller: string): RateDecision {
    const now = this.clock.now().getTime();
    const bucket = this.refilled(caller, now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      this.buckets.set(caller, bucket);
      if (this.buckets.size > SWEEP_ABOVE) this.sweep(now);
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.refillPerMs / 1000)) };
  }

  private refilled(caller: string, now: number): Bucket {
    const bucket = this.buckets.get(caller);
    if (!bucket) return { tokens: this.rate.limit, updatedAt: now };
    const elapsed = Math.max(0, now - bucket.updatedAt);
    return { tokens: Math.min(this.rate.limit, bucket.tokens + elapsed * this.refillPerMs), updatedAt: now };
  }

  private sweep(now: number): void {
    for (const [caller, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.updatedAt) * this.refillPerMs >= this.rate.limit) this.buckets.delete(caller);
    }
  }
}
