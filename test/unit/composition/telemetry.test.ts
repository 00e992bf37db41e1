import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TokenCredential } from '@azure/identity';
import type { AzureMonitorOpenTelemetryOptions } from '@azure/monitor-opentelemetry';
import { parseAuthenticationString, startTelemetry, type TelemetryRuntime } from '../../../shared/composition/telemetry';

/** A connection string of the documented shape; nothing is sent anywhere: the runtime is recorded, not real. */
const CONNECTION_STRING = 'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://example.invalid/';

/** A runtime that records what starting telemetry asked of it. */
function recordingRuntime() {
  const calls: AzureMonitorOpenTelemetryOptions[] = [];
  const credentials: Array<string | undefined> = [];
  const warnings: string[] = [];
  const runtime: TelemetryRuntime = {
    useAzureMonitor: (options) => void calls.push(options),
    managedIdentityCredential: (clientId) => {
      credentials.push(clientId);
      return { getToken: () => Promise.resolve(null) } satisfies TokenCredential;
    },
    warn: (message) => void warnings.push(message),
  };
  return { runtime, calls, credentials, warnings };
}

describe('the telemetry switch', () => {
  it('starts nothing without APPLICATIONINSIGHTS_CONNECTION_STRING (or with a blank one)', () => {
    for (const env of [
      {},
      { APPLICATIONINSIGHTS_CONNECTION_STRING: '  ' },
      { APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD' },
    ]) {
      const { runtime, calls, credentials } = recordingRuntime();
      const state = startTelemetry(env, runtime);
      assert.deepEqual(state, { started: false, reason: 'APPLICATIONINSIGHTS_CONNECTION_STRING is not set' });
      assert.deepEqual([calls, credentials], [[], []]);
    }
  });

  it('calls useAzureMonitor once with the connection string when it is set, recording outgoing calls but not incoming HTTP', () => {
    const { runtime, calls, credentials } = recordingRuntime();

    const state = startTelemetry({ APPLICATIONINSIGHTS_CONNECTION_STRING: CONNECTION_STRING }, runtime);

    assert.equal(state.started, true);
    assert.equal(state.started && state.authentication, 'instrumentation-key');
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0]?.azureMonitorExporterOptions, { connectionString: CONNECTION_STRING });
    const http = calls[0]?.instrumentationOptions?.http as { enabled: boolean; ignoreIncomingRequestHook: () => boolean };
    assert.equal(http.enabled, true);
    assert.equal(http.ignoreIncomingRequestHook(), true, 'the Functions host records incoming requests itself');
    assert.deepEqual(credentials, []);
  });

  it('authenticates the exporter with a managed identity per APPLICATIONINSIGHTS_AUTHENTICATION_STRING', () => {
    for (const [authentication, clientId] of [
      ['Authorization=AAD;ClientId=11111111-2222-3333-4444-555555555555', '11111111-2222-3333-4444-555555555555'],
      ['authorization=aad', undefined],
    ] as const) {
      const { runtime, calls, credentials } = recordingRuntime();

      const state = startTelemetry(
        { APPLICATIONINSIGHTS_CONNECTION_STRING: CONNECTION_STRING, APPLICATIONINSIGHTS_AUTHENTICATION_STRING: authentication },
        runtime,
      );

      assert.equal(state.started && state.authentication, 'managed-identity');
      assert.deepEqual(credentials, [clientId]);
      assert.ok(calls[0]?.azureMonitorExporterOptions?.credential, 'the credential reaches the exporter');
    }
  });

  it('stays off, with a warning naming the setting (not its value), when the authentication string is not Authorization=AAD', () => {
    const { runtime, calls, warnings } = recordingRuntime();

    const state = startTelemetry(
      {
        APPLICATIONINSIGHTS_CONNECTION_STRING: CONNECTION_STRING,
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=Key;Secret=hunter2',
      },
      runtime,
    );

    assert.equal(state.started, false);
    assert.deepEqual(calls, []);
    assert.deepEqual(warnings, ['telemetry is off: APPLICATIONINSIGHTS_AUTHENTICATION_STRING: must say Authorization=AAD']);
  });

  it('parses the authentication string as the Functions host does', () => {
    assert.deepEqual(parseAuthenticationString('Authorization=AAD'), { clientId: undefined });
    assert.deepEqual(parseAuthenticationString(' Authorization = AAD ; ClientId = abc ;'), { clientId: 'abc' });
    assert.ok('error' in parseAuthenticationString('Authorization=AAD;ClientId='));
    assert.ok('error' in parseAuthenticationString('AAD'));
  });
});
