/**
 * The one error family. Every error the service raises on purpose is a ServiceError built the same
 * way, `new XError(code, message, { cause, ... })`: a stable `code` clients may branch on, a message
 * for people, and the `cause` it wraps. shared/entrypoints/http/problems.ts is the only place that
 * maps them to HTTP; anything else that is thrown is a bug and answers 500 `internal_error`.
 */

/** A field-level validation failure: where (a JSON pointer into the input) and which rule. */
export interface FieldError {
  pointer: string;
  detail: string;
  /** Where the field travelled: HTTP entrypoints set it, the core leaves it out. */
  location?: 'body' | 'query' | 'path' | 'header' | 'message';
}

/** What a ServiceError may carry besides its code and message. */
export interface ServiceErrorOptions {
  cause?: unknown;
  /** The fields the error is about. */
  errors?: FieldError[];
}

/** Base of every error this service raises on purpose. */
export abstract class ServiceError<Code extends string = string> extends Error {
  readonly errors: FieldError[];

  constructor(
    readonly code: Code,
    message: string,
    options: ServiceErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.errors = options.errors ?? [];
  }
}

/** Input broke a rule of the contract; nothing was written. */
export class ValidationError extends ServiceError {}

/** The named thing does not exist. */
export class NotFoundError extends ServiceError {}

/** The request contradicts the directory's current state (a business rule refused it). */
export class ConflictError extends ServiceError {}

/** The request is well-formed but cannot be processed as sent (an Idempotency-Key reused for a different request). */
export class UnprocessableError extends ServiceError {}

/** The input is larger than the channel it must travel on allows (a request body, a queue message). */
export class TooLargeError extends ServiceError {}

/** Another writer committed first; the caller re-reads and decides again. */
export class ConcurrencyError extends ServiceError<'concurrent_change'> {}

/** A dependency (storage, transport) is unreachable; the request may be retried after `retryAfterSeconds`. */
export class UnavailableError extends ServiceError<'service_unavailable'> {
  readonly retryAfterSeconds: number;

  constructor(code: 'service_unavailable', message: string, options: ServiceErrorOptions & { retryAfterSeconds?: number } = {}) {
    super(code, message, options);
    this.retryAfterSeconds = options.retryAfterSeconds ?? 5;
  }
}

/** The settings do not make a valid configuration; `errors` names each bad setting. Raised at start-up. */
export class ConfigurationError extends ServiceError<'invalid_configuration'> {}

/** Something the code relies on does not hold: a bug, never the caller's fault, never worth a retry. */
export class InvariantError extends ServiceError<'invariant_broken'> {}
