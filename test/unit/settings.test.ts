import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfigurationError } from '../../shared/domain/errors';
import { parseRegistrationSettings, parseSettings } from '../../shared/settings';
import { readHostSettings } from '../../shared/local/hostSettings';

const APP_ROOT = path.resolve(__dirname, '..', '..', '..');
const minimal = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };

describe('settings', () => {
  it('marks a request failed on the same delivery host.json sets it aside on', () => {
    // The handler settles the request as failed on its last delivery; the host moves the message to poison after that one.
    assert.equal(parseSettings(minimal).delivery.maxDeliveries, readHostSettings(APP_ROOT).queues.maxDequeueCount);
  });

  it('reads the delivery policy, with the documented defaults', () => {
    assert.deepEqual(parseSettings(minimal).delivery, {
      redriveAfterMs: 30_000,
      maxSends: 5,
      maxDeliveries: 5,
      idempotencyKeyTtlMs: 86_400_000,
    });
    assert.equal(parseSettings(minimal).redriveSchedule, '*/10 * * * * *');
    const tuned = parseSettings({
      ...minimal,
      REDRIVE_AFTER_SECONDS: '2',
      REDRIVE_MAX_SENDS: '20',
      MAX_DELIVERY_COUNT: '10',
      IDEMPOTENCY_KEY_TTL_HOURS: '1',
      REDRIVE_SCHEDULE: '*/1 * * * * *',
    });
    assert.deepEqual(tuned.delivery, { redriveAfterMs: 2000, maxSends: 20, maxDeliveries: 10, idempotencyKeyTtlMs: 3_600_000 });
    assert.equal(tuned.redriveSchedule, '*/1 * * * * *');
  });

  it('names each bad setting and its rule in a ConfigurationError', () => {
    assert.throws(
      () => parseSettings({ ...minimal, REDRIVE_AFTER_SECONDS: '0', REDRIVE_MAX_SENDS: 'many' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigurationError);
        assert.equal(error.code, 'invalid_configuration');
        assert.deepEqual(error.errors.map((e) => e.pointer).sort(), ['#/REDRIVE_AFTER_SECONDS', '#/REDRIVE_MAX_SENDS']);
        assert.match(error.message, /REDRIVE_AFTER_SECONDS: must be at least 1/);
        return true;
      },
    );
  });

  it('reads the registration settings without needing the runtime ones (no storage connection)', () => {
    assert.deepEqual(parseRegistrationSettings({ MESSAGING_TRANSPORT: 'service-bus', ENDPOINT_CREATE_QUEUE: 'creates' }), {
      transport: 'service-bus',
      queues: { endpointCreate: 'creates', endpointDelete: 'endpoint-delete', auditEvents: 'audit-events' },
      redriveSchedule: '*/10 * * * * *',
      checkpointSchedule: '0 */5 * * * *',
    });
  });
});
