import {
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
  /** The HTTP status; change_request_settled carries the request's status here instead (see problem()). */
  status: number | string;
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

/** The problem document for a response status and code. */
export function problem(
  status: number,
  code: string,
  detail: string,
  errors?: FieldError[],
  extensions: Record<string, unknown> = {},
): TextOutput {
  const body: Problem = {
    type: `/problems/${code.replace(/_/g, '-')}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    ...(errors?.length ? { errors } : {}),
    // Last, so the API contract's members win: change_request_settled's `status` is the request's
    // settled status (a string), in place of RFC 9457's advisory copy of the HTTP status.
    ...extensions,
  };
  const headers: Record<string, string> = { 'content-type': 'application/problem+json; charset=utf-8' };
  return { status, headers, body: JSON.stringify(body) };
}

/** The one mapping from errors to HTTP statuses and problem details. */
export function problemForError(error: unknown): TextOutput {
  if (error instanceof ValidationError) return problem(400, error.code, error.message, error.errors);
  // The WWW-Authenticate challenge of a 401 depends on the authentication mode: httpEntrypoint adds it.
  if (error instanceof UnauthenticatedError) return problem(401, error.code, error.message, error.errors);
  if (error instanceof ForbiddenError) return problem(403, error.code, error.message, error.errors);
  if (error instanceof NotFoundError) return problem(404, error.code, error.message);
  if (error instanceof ConflictError) return problem(409, error.code, error.message, error.errors, error.extensions);
  if (error instanceof TooLargeError) return problem(413, error.code, error.message, error.errors);
  if (error instanceof UnsupportedMediaTypeError) return problem(415, error.code, error.message, error.errors);
  if (error instanceof UnprocessableError) return problem(422, error.code, error.message, error.errors);
  if (error instanceof TooManyRequestsError)
    return withRetryAfter(problem(429, error.code, error.message, error.errors), error.retryAfterSeconds);
  if (error instanceof UnavailableError) return withRetryAfter(problem(503, error.code, error.message), error.retryAfterSeconds);
  if (error instanceof ConcurrencyError) return withRetryAfter(problem(503, error.code, 'the directory is busy; retry shortly'), 1);
  // The operator reads what is misconfigured in the log; the caller learns only that it is.
  if (error instanceof ConfigurationError) return problem(500, error.code, 'the service is misconfigured; the reason has been logged');
  return problem(500, 'internal_error', 'an unexpected error occurred; it has been logged');
}

function withRetryAfter(output: TextOutput, seconds: number): TextOutput {
  return { ...output, headers: { ...output.headers, 'retry-after': String(seconds) } };
}
