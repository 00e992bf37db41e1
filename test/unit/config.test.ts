import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { parseConfig, ConfigError } from '../../shared/config';
import { readHostSettings } from '../../shared/local/hostSettings';

const APP_ROOT = path.resolve(__dirname, '..', '..', '..');
const minimal = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };

describe('configuration', () => {
  it('marks a request failed on the same delivery host.json sets it aside on', () => {
    // The handler settles the request as failed on its last delivery; the host moves the message to poison after that one.
    assert.equal(parseConfig(minimal).reliability.maxDeliveries, readHostSettings(APP_ROOT).queues.maxDequeueCount);
  });

  it('reads the reliability settings, with the documented defaults', () => {
    assert.deepEqual(parseConfig(minimal).reliability, { redriveAfterMs: 30_000, maxSends: 5, maxDeliveries: 5, idempotencyKeyTtlMs: 86_400_000 });
    assert.equal(parseConfig(minimal).redriveSchedule, '*/10 * * * * *');
    const tuned = parseConfig({ ...minimal, REDRIVE_AFTER_SECONDS: '2', REDRIVE_MAX_SENDS: '20', MAX_DELIVERY_COUNT: '10', IDEMPOTENCY_KEY_TTL_HOURS: '1', REDRIVE_SCHEDULE: '*/1 * * * * *' });
    assert.deepEqual(tuned.reliability, { redriveAfterMs: 2000, maxSends: 20, maxDeliveries: 10, idempotencyKeyTtlMs: 3_600_000 });
    assert.equal(tuned.redriveSchedule, '*/1 * * * * *');
  });

  it('names each bad setting and its rule', () => {
    assert.throws(() => parseConfig({ ...minimal, REDRIVE_AFTER_SECONDS: '0', REDRIVE_MAX_SENDS: 'many' }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.problems.map((p) => p.split(':')[0]).sort(), ['REDRIVE_AFTER_SECONDS', 'REDRIVE_MAX_SENDS']);
      assert.match(error.message, /REDRIVE_AFTER_SECONDS: must be at least 1/);
      return true;
    });
  });
});
