import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InMemoryMessageBus } from '../../../../shared/adapters/memory/InMemoryMessageBus';
import { ServiceBusRules } from '../../../../shared/adapters/transportRules';
import type { AuditLog } from '../../../../shared/application/ports/auditLog';
import type { MessageBus } from '../../../../shared/application/ports/messageBus';
import { ErrorCode, UnavailableError } from '../../../../shared/domain/errors';
import { Role } from '../../../../shared/domain/principal';
import { readinessHttp, READINESS_TIMEOUT_MS } from '../../../../shared/entrypoints/http/healthHttp';
import type { HttpInput } from '../../../../shared/entrypoints/http/httpInput';
import { fakeAuthenticator } from '../../../support/fakeAuthenticator';
import { recordingLog } from '../../../support/storeHarness';

/** GET /api/health/ready as a plain function, over fakes of the storage read and the bus's reachability check. */

const GET_READY: HttpInput = {
  method: 'GET',
  url: 'http://localhost:7071/api/health/ready',
  headers: { get: () => null },
  params: {},
  query: new URLSearchParams(),
  text: async () => '',
};

/** Storage that answers its head read, or fails it with `error`. */
function storage(error?: Error): AuditLog {
  const head = async () => {
    if (error) throw error;
    return { sequence: 0, hash: '' };
  };
  return { head } as unknown as AuditLog;
}

const outage = () => new UnavailableError(ErrorCode.serviceUnavailable, 'down', { retryAfterSeconds: 7 });
const reader = fakeAuthenticator({ name: 'reader@contoso.com', roles: new Set([Role.reader]) });
const anonymous = fakeAuthenticator(null);

async function ready(auditLog: AuditLog, bus: MessageBus, authenticated: boolean, timeoutMs = READINESS_TIMEOUT_MS) {
  const log = recordingLog();
  const response = await readinessHttp({ auditLog, bus, log, authenticator: authenticated ? reader : anonymous }, GET_READY, { timeoutMs });
  return { status: response.status, body: JSON.parse(response.body as string) as unknown, headers: response.headers ?? {}, log };
}

describe('readinessHttp', () => {
  it('is ready when storage answers and the bus is reachable; only an authenticated caller sees the checks', async () => {
    const bus = new InMemoryMessageBus(ServiceBusRules);

    const seenAnonymously = await ready(storage(), bus, false);
    const seenByReader = await ready(storage(), bus, true);

    assert.deepEqual([seenAnonymously.status, seenAnonymously.body], [200, { status: 'ready' }]);
    assert.deepEqual([seenByReader.status, seenByReader.body], [200, { status: 'ready', checks: { storage: 'ok', messaging: 'ok' } }]);
  });

  it('answers 503 with Retry-After when the bus cannot be reached, naming the failed check to an authenticated caller only', async () => {
    const downBus = () => {
      const bus = new InMemoryMessageBus(ServiceBusRules);
      bus.failNext(outage());
      return bus;
    };

    const seenAnonymously = await ready(storage(), downBus(), false);
    const seenByReader = await ready(storage(), downBus(), true);

    assert.deepEqual([seenAnonymously.status, seenAnonymously.body], [503, { status: 'unavailable' }]);
    assert.equal(seenAnonymously.headers['retry-after'], '7');
    assert.deepEqual(
      [seenByReader.status, seenByReader.body],
      [503, { status: 'unavailable', checks: { storage: 'ok', messaging: 'unavailable' } }],
    );
    assert.match(seenByReader.log.warnings.join('\n'), /request failed/);
  });

  it('answers 503 naming both checks when storage and the bus are both down', async () => {
    const bus = new InMemoryMessageBus(ServiceBusRules);
    bus.failNext(outage());

    const seen = await ready(storage(outage()), bus, true);

    assert.deepEqual(
      [seen.status, seen.body],
      [503, { status: 'unavailable', checks: { storage: 'unavailable', messaging: 'unavailable' } }],
    );
  });

  it('gives up on a bus check that hangs at the deadline: 503 in about the timeout, and the check is told to stop', async () => {
    let signalSeen: AbortSignal | undefined;
    const hanging: MessageBus = {
      send: async () => undefined,
      deadLetter: async () => undefined,
      checkReachable: (signal) => {
        signalSeen = signal;
        return new Promise(() => undefined);
      },
    };
    const started = Date.now();

    const seen = await ready(storage(), hanging, true, 50);

    assert.deepEqual([seen.status, seen.body], [503, { status: 'unavailable', checks: { storage: 'ok', messaging: 'unavailable' } }]);
    assert.ok(Date.now() - started < 1000, `answered after ${Date.now() - started} ms`);
    assert.equal(signalSeen?.aborted, true);
  });

  it('answers 500 internal_error, not 503, when a check fails on a bug', async () => {
    const buggy: MessageBus = {
      send: async () => undefined,
      deadLetter: async () => undefined,
      checkReachable: async () => {
        throw new TypeError('bug');
      },
    };

    const seen = await ready(storage(), buggy, true);

    assert.deepEqual([seen.status, (seen.body as { code: string }).code], [500, 'internal_error']);
  });
});
