import type { ServiceDependencies } from '../../application/dependencies';
import { httpEntrypoint } from './httpEntrypoint';
import { json } from './httpInput';

/**
 * GET /api/health, anonymous (it holds no data): 200 when this instance is up and can read its
 * storage (one entity read), 503 with Retry-After when storage is out, as every route answers then.
 */
export const healthHttp = httpEntrypoint(async (deps: Pick<ServiceDependencies, 'auditLog' | 'log'>) => {
  await deps.auditLog.head();
  return json(200, { status: 'ok', checks: { storage: 'ok' } }, { 'cache-control': 'no-store' });
});
