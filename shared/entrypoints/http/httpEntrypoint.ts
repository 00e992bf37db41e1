import { UnavailableError } from '../../domain/errors';
import type { Principal, Role } from '../../domain/principal';
import type { Logger } from '../../application/ports/system';
import { authorize, type Authenticator } from './authentication';
import type { HttpInput } from './httpInput';
import { problemForError, type HttpOutput } from './problems';
import { CORRELATION_ID_PATTERN } from '../../domain/text';

/** An HTTP entrypoint: a plain function of its dependencies and the request, answering with a response (never throwing). */
export type HttpEntrypoint<D> = (deps: D, request: HttpInput) => Promise<HttpOutput>;

/** What every HTTP entrypoint needs besides its use case's dependencies: a log and who is calling. */
export interface HttpDependencies {
  log: Logger;
  authenticator: Authenticator;
  /** The origin callers reach the API at: absolute Locations and problem `type` URIs (relative when absent). */
  publicBaseUrl?: string;
}

/** Who may call an entrypoint: a principal holding at least one of these roles. */
export interface Access {
  roles: readonly Role[];
}

/** An outage is expected and explained by its message (and its cause's); anything else needs its stack. */
function describe(error: unknown): string {
  if (error instanceof UnavailableError) return `${error.message}: ${String((error.cause as Error | undefined)?.message ?? 'no cause')}`;
  return String((error as Error | undefined)?.stack ?? error);
}

/** The caller's correlation id for a log line: only a well-formed one, so a header cannot forge log content. */
function loggedCorrelationId(request: Pick<HttpInput, 'headers'>): string | null {
  const given = request.headers.get('x-correlation-id')?.trim();
  return given && CORRELATION_ID_PATTERN.test(given) ? given : null;
}

/** The request's path: the query string stays out of the log. */
function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '(unparsable url)';
  }
}

/**
 * A logger for one request: every line names the caller's correlation id (when it sent a well-formed
 * one) and, once authenticated, the principal, never a header value or a credential.
 */
export function requestLogger(log: Logger, request: Pick<HttpInput, 'headers'>, principal?: Principal): Logger {
  return log.with({ correlationId: loggedCorrelationId(request), principal: principal?.name ?? null });
}

/**
 * Logs a failed request: the service's failures (5xx) with the error, and refused credentials or
 * roles (401, 403) as security events. `log` is the request's (requestLogger), so each line names
 * the principal when known; the correlation id is named here too, for a caller with a plain logger.
 */
export function logFailure(log: Logger, request: Pick<HttpInput, 'method' | 'url' | 'headers'>, status: number, error: unknown): void {
  const context = { method: request.method, path: pathOf(request.url), status, correlationId: loggedCorrelationId(request) };
  if (status >= 500) log.warn('request failed', { ...context, error: describe(error) });
  else if (status === 401 || status === 403) log.info('request refused', { ...context, reason: (error as Error).message });
}

/**
 * Makes an HTTP entrypoint of a handler that may throw. First, before the body is read or any use
 * case runs, the caller is authenticated (401 with WWW-Authenticate) and must hold one of
 * `access.roles` (403); the handler then gets the principal. A ServiceError becomes its problem
 * details, anything else a logged 500 (see problems.ts for the one mapping).
 */
export function httpEntrypoint<D extends HttpDependencies>(
  access: Access,
  handler: (deps: D, request: HttpInput, principal: Principal) => Promise<HttpOutput>,
): HttpEntrypoint<D> {
  return async (deps, request) => {
    let log = requestLogger(deps.log, request);
    try {
      const principal = deps.authenticator.authenticate(request.headers);
      log = requestLogger(deps.log, request, principal);
      authorize(principal, access.roles);
      return await handler({ ...deps, log }, request, principal);
    } catch (error) {
      const output = problemForError(error, deps.publicBaseUrl);
      logFailure(log, request, output.status, error);
      if (output.status === 401) return { ...output, headers: { ...output.headers, 'www-authenticate': deps.authenticator.challenge } };
      return output;
    }
  };
}
