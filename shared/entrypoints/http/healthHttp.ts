import type { ServiceDependencies } from '../../application/dependencies';
import { UnavailableError } from '../../domain/errors';
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

/**
 * GET /api/health/ready: readiness for monitors and availability tests (the Flex Consumption plan
 * has no platform health check): 200 when this instance can read its storage (one entity read),
 * else 503 with Retry-After. Anonymous callers see only the status; authenticated ones, each check.
 */
export async function readinessHttp(
  deps: Pick<ServiceDependencies, 'auditLog'> & HttpDependencies,
  request: HttpInput,
): Promise<HttpOutput> {
  const detailed = isAuthenticated(deps, request);
  try {
    await deps.auditLog.head();
    return json(200, { status: 'ready', ...(detailed ? { checks: { storage: 'ok' } } : {}) }, NO_STORE);
  } catch (error) {
    if (!(error instanceof UnavailableError)) {
      const output = problemForError(error);
      logFailure(deps.log, request, output.status, error);
      return output;
    }
    const body = { status: 'unavailable', ...(detailed ? { checks: { storage: 'unavailable' } } : {}) };
    return json(503, body, { ...NO_STORE, 'retry-after': String(error.retryAfterSeconds) });
  }
}
