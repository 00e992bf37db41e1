import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { retryWhileContended } from '../../../shared/application/retry';
import { ConcurrencyError, UnavailableError } from '../../../shared/domain/errors';

const lostRace = () => new ConcurrencyError('concurrent_change', 'another writer committed first');

describe('retryWhileContended', () => {
  it('tries again while the attempt loses a race, and returns its first success', async () => {
    let tries = 0;

    const result = await retryWhileContended(
      async () => {
        tries++;
        if (tries < 3) throw lostRace();
        return 'committed';
      },
      { attempts: 5, maxPauseMs: 1 },
    );

    assert.deepEqual([result, tries], ['committed', 3]);
  });

  it('throws the last ConcurrencyError after `attempts` tries', async () => {
    let tries = 0;

    await assert.rejects(
      retryWhileContended(
        async () => {
          tries++;
          throw lostRace();
        },
        { attempts: 4, maxPauseMs: 1 },
      ),
      ConcurrencyError,
    );
    assert.equal(tries, 4);
  });

  it('throws any other error at once: an outage or a bug is not a race', async () => {
    let tries = 0;

    await assert.rejects(
      retryWhileContended(
        async () => {
          tries++;
          throw new UnavailableError('service_unavailable', 'table storage is unavailable');
        },
        { attempts: 4, maxPauseMs: 1 },
      ),
      UnavailableError,
    );
    assert.equal(tries, 1);
  });
});
