/**
 * The one error family. Each error has a stable `code`, sets `name` and keeps `cause`;
 * shared/entrypoints/problems.ts is the only place that maps them to HTTP.
 */

/** A field-level validation failure: where (a JSON pointer into the input) and which rule. */
export interface FieldError {
  pointer: string;
  detail: string;
  location?: 'body' | 'query' | 'path' | 'header' | 'message';
}

/** Base of every error this service raises on purpose. */
export abstract class ServiceError extends Error {
  abstract readonly code: string;
}

/** Input broke a rule of the contract; nothing was written. */
export class ValidationError extends ServiceError {
  readonly code: string;
  constructor(message: string, readonly errors: FieldError[], options?: ErrorOptions & { code?: string }) {
    super(message, options);
    this.name = 'ValidationError';
    this.code = options?.code ?? 'validation_failed';
  }
}

/** The named thing does not exist. */
export class NotFoundError extends ServiceError {
  readonly code: string;
  constructor(message: string, code = 'not_found', options?: ErrorOptions) {
    super(message, options);
    this.name = 'NotFoundError';
    this.code = code;
  }
}

/** The request contradicts the directory's current state (a business rule refused it). */
export class ConflictError extends ServiceError {
  constructor(message: string, readonly code: string, readonly errors: FieldError[] = [], options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConflictError';
  }
}

/** The request is well-formed but cannot be processed as sent (such as an Idempotency-Key reused for a different request). */
export class UnprocessableError extends ServiceError {
  constructor(message: string, readonly code: string, readonly errors: FieldError[] = [], options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnprocessableError';
  }
}

/** Another writer committed first; the caller re-reads and decides again. */
export class ConcurrencyError extends ServiceError {
  readonly code = 'concurrent_change';
  constructor(message = 'the directory changed while this change was being decided', options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConcurrencyError';
  }
}

/** A dependency (storage, transport) is unreachable; the request may be retried. */
export class UnavailableError extends ServiceError {
  readonly code = 'service_unavailable';
  constructor(message: string, readonly retryAfterSeconds = 5, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnavailableError';
  }
}
