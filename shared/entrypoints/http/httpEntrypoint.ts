import { UnavailableError } from '../../domain/errors';
import type { Logger } from '../../application/ports/system';
import type { HttpInput } from './httpInput';
import { problemForError, type HttpOutput } from './problems';

/** An HTTP entrypoint: a plain function of its dependencies and the request, answering with a response (never throwing). */
export type HttpEntrypoint<D> = (deps: D, request: HttpInput) => Promise<HttpOutput>;

/** An outage is expected and explained by its message (and its cause's); anything else needs its stack. */
function describe(error: unknown): string {
  if (error instanceof UnavailableError) return `${error.message}: ${String((error.cause as Error | undefined)?.message ?? 'no cause')}`;
  return String((error as Error | undefined)?.stack ?? error);
}

/** Logs why a request failed, when the failure is the service's (5xx), not the caller's. */
export function logFailure(log: Logger, request: Pick<HttpInput, 'method' | 'url'>, status: number, error: unknown): void {
  if (status >= 500) log.warn('request failed', { method: request.method, url: request.url, status, error: describe(error) });
}

/**
 * Makes an HTTP entrypoint of a handler that may throw: a ServiceError becomes its problem details,
 * anything else a logged 500 (see problems.ts for the one mapping).
 */
export function httpEntrypoint<D extends { log: Logger }>(
  handler: (deps: D, request: HttpInput) => Promise<HttpOutput>,
): HttpEntrypoint<D> {
  return async (deps, request) => {
    try {
      return await handler(deps, request);
    } catch (error) {
      const output = problemForError(error);
      logFailure(deps.log, request, output.status, error);
      return output;
    }
  };
}
