import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import names from '../../shared/names.json';
import { readHostSettings, timeSpanMs } from '../../shared/local/hostSettings';

/**
 * host.json as the Functions host reads it in Azure (the README's "host.json" section says why
 * each value): the relations between its settings, the Service Bus entities' lock duration in
 * shared/names.json and the service's delivery rule, which nothing else would check before a deploy.
 */

const APP_ROOT = path.resolve(__dirname, '..', '..', '..');

interface HostJson {
  version: string;
  functionTimeout?: string;
  retry?: unknown;
  extensionBundle: { id: string; version: string };
  logging: { applicationInsights: { samplingSettings: { isEnabled: boolean; excludedTypes?: string } } };
  extensions: {
    queues: Record<string, unknown>;
    serviceBus: {
      prefetchCount?: number;
      maxConcurrentCalls?: number;
      autoCompleteMessages?: boolean;
      maxAutoLockRenewalDuration?: string;
    };
  };
}

const host = JSON.parse(readFileSync(path.join(APP_ROOT, 'host.json'), 'utf8')) as HostJson;

/** Milliseconds of an ISO 8601 duration of hours, minutes and seconds (`PT1M`), as Bicep gives a lock duration. */
function isoDurationMs(value: string): number {
  const match = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$/.exec(value);
  assert.ok(match, `${value} is not an ISO 8601 time duration`);
  const [, hours = '0', minutes = '0', seconds = '0'] = match;
  return (Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds)) * 1000;
}

describe('host.json', () => {
  it('takes extension bundle 4.x, the bundle of the v4 programming model with Service Bus extension 5.x', () => {
    assert.deepEqual(host.extensionBundle, { id: 'Microsoft.Azure.Functions.ExtensionBundle', version: '[4.*, 5.0.0)' });
  });

  it('sets messages aside after MAX_DELIVERY_COUNT deliveries on both transports, and has no host-level retry that would hide deliveries', () => {
    assert.equal(host.extensions.queues['maxDequeueCount'], names.delivery.maxDeliveryCount);
    assert.equal(readHostSettings(APP_ROOT).queues.maxDequeueCount, names.delivery.maxDeliveryCount, 'the local host reads the same');
    // A host retry policy re-runs a function inside one delivery: the dequeue / delivery count would
    // not grow, and the last-delivery rule would not see the attempts.
    assert.equal(host.retry, undefined);
    assert.equal(host.extensions.serviceBus.autoCompleteMessages, true, 'a thrown error abandons the message, which redelivers it');
  });

  it('renews a Service Bus lock for as long as a function may run, beyond the entities’ lock duration, and prefetches nothing', () => {
    const { functionTimeout } = host;
    assert.ok(functionTimeout, 'functionTimeout is set explicitly (Flex Consumption defaults to 30 minutes)');
    const lockMs = isoDurationMs(names.delivery.lockDuration);
    const renewalMs = timeSpanMs(host.extensions.serviceBus.maxAutoLockRenewalDuration, 0);

    assert.ok(renewalMs > lockMs, `lock renewal (${renewalMs} ms) must outlast the lock (${lockMs} ms)`);
    assert.ok(renewalMs >= timeSpanMs(functionTimeout, 0), 'the lock is renewed until the function times out');
    // A prefetched message's lock runs out while it waits in the buffer, unrenewed.
    assert.equal(host.extensions.serviceBus.prefetchCount, 0);
  });

  it('samples Application Insights telemetry but never requests or exceptions', () => {
    const { isEnabled, excludedTypes = '' } = host.logging.applicationInsights.samplingSettings;
    assert.equal(isEnabled, true);
    assert.deepEqual(excludedTypes.split(';').sort(), ['Exception', 'Request']);
  });
});
