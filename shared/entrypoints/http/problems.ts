import {
  AmbiguousIdentityError,
  ConcurrencyError,
  ConfigurationError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ServiceError,
  TooLargeError,
  TooManyRequestsError,
  UnauthenticatedError,
  UnavailableError,
  UnprocessableError,
  ValidationError,
  type FieldError,
} from '../../domain/errors';

/** The body is not in a media type the route accepts (only HTTP has media types, so the error lives here). */
export class UnsupportedMediaTypeError extends ServiceError {}

/** An RFC 9457 problem details object with our extensions: a stable `code` and field-level `errors`. */
export interface Problem {
  type: string;
  title: string;
  /** The HTTP status (RFC 9457); extension members (such as `changeRequestStatus`) never replace it. */
  status: number;
  detail: string;
  code: string;
  errors?: FieldError[];
  instance?: string;
}

/** A plain HTTP response the Functions shell and the local host both understand. */
export interface HttpOutput {
  status: number;
  headers?: Record<string, string>;
  /** Text, or bytes produced as they are read (an export), which the host streams out. */
  body?: string | AsyncIterable<Uint8Array>;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** A response whose body is text already (every problem document). */
export type TextOutput = HttpOutput & { body: string };

/**
 * The URI of a problem code's explanation page (GET /api/problems/{code}): absolute on the public
 * base URL; relative (resolved against the request's URL, as RFC 9457 allows) when none is known.
 */
export function problemTypeUri(code: string, publicBaseUrl = ''): string {
  return `${publicBaseUrl}/api/problems/${encodeURIComponent(code)}`;
}

/** The problem document for a response status and code; `type` is the code's page on `publicBaseUrl`. */
export function problem(
  status: number,
  code: string,
  detail: string,
  errors?: FieldError[],
  publicBaseUrl?: string,
  extensions: Record<string, unknown> = {},
): TextOutput {
  const body: Problem = {
    type: problemTypeUri(code, publicBaseUrl),
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    ...(errors?.length ? { errors } : {}),
  };
  // Extension members add to the problem, never replace RFC 9457's own members or ours.
  for (const [name, value] of Object.entries(extensions)) if (!(name in body)) (body as unknown as Record<string, unknown>)[name] = value;
  const headers: Record<string, string> = { 'content-type': 'application/problem+json; charset=utf-8' };
  return { status, headers, body: JSON.stringify(body) };
}

/** The one mapping from errors to HTTP statuses and problem details; `type` URIs are on `base` (the public base URL). */
export function problemForError(error: unknown, base?: string): TextOutput {
  if (error instanceof ValidationError) return problem(400, error.code, error.message, error.errors, base);
  // The WWW-Authenticate challenge of a 401 depends on the authentication mode: httpEntrypoint adds it.
  if (error instanceof UnauthenticatedError) return problem(401, error.code, error.message, error.errors, base);
  if (error instanceof ForbiddenError) return problem(403, error.code, error.message, error.errors, base);
  if (error instanceof NotFoundError) return problem(404, error.code, error.message, undefined, base);
  if (error instanceof AmbiguousIdentityError)
    return problem(409, error.code, error.message, error.errors, base, { matches: error.matches });
  if (error instanceof ConflictError) return problem(409, error.code, error.message, error.errors, base, error.extensions);
  if (error instanceof TooLargeError) return problem(413, error.code, error.message, error.errors, base);
  if (error instanceof UnsupportedMediaTypeError) return problem(415, error.code, error.message, error.errors, base);
  if (error instanceof UnprocessableError) return problem(422, error.code, error.message, error.errors, base);
  if (error instanceof TooManyRequestsError)
    return withRetryAfter(problem(429, error.code, error.message, error.errors, base), error.retryAfterSeconds);
  if (error instanceof UnavailableError)
    return withRetryAfter(problem(503, error.code, error.message, undefined, base), error.retryAfterSeconds);
  if (error instanceof ConcurrencyError)
    return withRetryAfter(problem(503, error.code, 'the directory is busy; retry shortly', undefined, base), 1);
  // The operator reads what is misconfigured in the log; the caller learns only that it is.
  if (error instanceof ConfigurationError)
    return problem(500, error.code, 'the service is misconfigured; the reason has been logged', undefined, base);
  return problem(500, 'internal_error', 'an unexpected error occurred; it has been logged', undefined, base);
}

function withRetryAfter(output: TextOutput, seconds: number): TextOutput {
  return { ...output, headers: { ...output.headers, 'retry-after': String(seconds) } };
}
