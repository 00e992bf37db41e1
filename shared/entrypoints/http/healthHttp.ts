import type { ServiceDependencies } from '../../application/dependencies';
import { logFailure } from './httpEntrypoint';
import { json, type HttpInput } from './httpInput';
import { problemForError, type HttpOutput } from './problems';

/**
 * GET /api/health, anonymous (it holds no data, so it asks for no credentials): 200 when this
 * instance is up and can read its storage (one entity read), 503 with Retry-After when storage is out.
 */
export async function healthHttp(deps: Pick<ServiceDependencies, 'auditLog' | 'log'>, request: HttpInput): Promise<HttpOutput> {
  try {
    await deps.auditLog.head();
    return json(200, { status: 'ok', checks: { storage: 'ok' } }, { 'cache-control': 'no-store' });
  } catch (error) {
    const output = problemForError(error);
    logFailure(deps.log, request, output.status, error);
    return output;
  }
}
