import type { ServiceDependencies } from '../../application/dependencies';
import { ErrorCode, UnavailableError } from '../../domain/errors';
import type { HttpDependencies } from './httpEntrypoint';
import { logFailure } from './httpEntrypoint';
import { json, type HttpInput } from './httpInput';
import { problemForError, type HttpOutput } from './problems';

const NO_STORE = { 'cache-control': 'no-store' };

/** GET /api/health: liveness, anonymous and without detail: the process answers HTTP. */
export function healthHttp(): HttpOutput {
  return json(200, { status: 'ok' }, NO_STORE);
}

/** Whether the caller proved who it is (any role): only such callers see which check failed. */
function isAuthenticated(deps: Pick<HttpDependencies, 'authenticator'>, request: HttpInput): boolean {
  try {
    deps.authenticator.authenticate(request.headers);
    return true;
  } catch {
    return false;
  }
}

/** How long readiness waits for each check: monitors want a quick answer, and a check that hangs is a failed one. */
export const READINESS_TIMEOUT_MS = 3000;

/** What one readiness check found: ok, unavailable (with the outage), or a bug (anything else thrown). */
type CheckOutcome = { status: 'ok' } | { status: 'unavailable'; error: UnavailableError } | { status: 'bug'; error: unknown };

/**
 * Runs one check with a deadline: past it the check counts as unavailable, and its signal aborts
 * the work still in flight (the bus's SDK calls take the signal; a table read simply loses the race).
 */
async function runCheck(name: string, check: (signal: AbortSignal) => Promise<unknown>, timeoutMs: number): Promise<CheckOutcome> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new UnavailableError(ErrorCode.serviceUnavailable, `${name} did not answer within ${timeoutMs} ms`);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    await Promise.race([check(controller.signal), deadline]);
    return { status: 'ok' };
  } catch (error) {
    return error instanceof UnavailableError ? { status: 'unavailable', error } : { status: 'bug', error };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * GET /api/health/ready: readiness for monitors and availability tests (the Flex Consumption plan
 * has no platform health check): 200 when this instance can read its storage (one entity read) and
 * reach its message transport (MessageBus.checkReachable: nothing sent), both checked at once, each
 * within READINESS_TIMEOUT_MS; else 503 with Retry-After. Anonymous callers see only the status;
 * authenticated ones, each check.
 */
export async function readinessHttp(
  deps: Pick<ServiceDependencies, 'auditLog' | 'bus'> & HttpDependencies,
  request: HttpInput,
  options: { timeoutMs: number } = { timeoutMs: READINESS_TIMEOUT_MS },
): Promise<HttpOutput> {
  const detailed = isAuthenticated(deps, request);
  const [storage, messaging] = await Promise.all([
    runCheck('storage', () => deps.auditLog.head(), options.timeoutMs),
    runCheck('messaging', (signal) => deps.bus.checkReachable(signal), options.timeoutMs),
  ]);
  const bug = [storage, messaging].find((outcome) => outcome.status === 'bug');
  if (bug) {
    const output = problemForError(bug.error, deps.publicBaseUrl);
    logFailure(deps.log, request, output.status, bug.error);
    return output;
  }
  const checks = { storage: storage.status, messaging: messaging.status };
  const failures = [storage, messaging].flatMap((outcome) => (outcome.status === 'unavailable' ? [outcome.error] : []));
  if (failures.length === 0) return json(200, { status: 'ready', ...(detailed ? { checks } : {}) }, NO_STORE);
  for (const failure of failures) logFailure(deps.log, request, 503, failure);
  const retryAfter = Math.max(...failures.map((failure) => failure.retryAfterSeconds));
  return json(503, { status: 'unavailable', ...(detailed ? { checks } : {}) }, { ...NO_STORE, 'retry-after': String(retryAfter) });
}
