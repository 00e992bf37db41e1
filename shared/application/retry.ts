import { ConcurrencyError } from '../domain/errors';

/** How often to try, and how long to wait at most between tries. */
export interface RetryOptions {
  attempts: number;
  maxPauseMs: number;
}

/** Commits and admissions: 50 tries is far beyond any contention a deployment's writers produce. */
export const CONTENTION_RETRY: RetryOptions = { attempts: 50, maxPauseMs: 100 };

/** A short random pause that grows with each try, so contending writers spread out. */
export const pauseBeforeRetry = (tries: number, options: RetryOptions) =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(options.maxPauseMs, 2 * tries)));

/**
 * Runs `attempt` again while it loses a race (ConcurrencyError), with a short random pause that
 * grows with each try so contending writers spread out; after `attempts` tries the last
 * ConcurrencyError is thrown. Any other error is thrown at once.
 */
export async function retryWhileContended<T>(attempt: () => Promise<T>, options: RetryOptions = CONTENTION_RETRY): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || tries >= options.attempts) throw error;
    }
    await pauseBeforeRetry(tries, options);
  }
}
