/**
 * The one error family. Every error the service raises on purpose is a ServiceError built the same
 * way, `new XError(code, message, { cause, ... })`: a stable `code` clients may branch on, a message
 * for people, and the `cause` it wraps. shared/entrypoints/http/problems.ts is the only place that
 * maps them to HTTP; anything else that is thrown is a bug and answers 500 `internal_error`.
 */

import type { RejectionCode, TopologyCode } from './codes';

/** The stable codes of errors that are not a rule's refusal (those are RejectionCode and TopologyCode). */
export const ErrorCode = {
  validationFailed: 'validation_failed',
  unauthenticated: 'unauthenticated',
  forbidden: 'forbidden',
  bodyRequired: 'body_required',
  malformedJson: 'malformed_json',
  bodyTooLarge: 'body_too_large',
  messageTooLarge: 'message_too_large',
  unsupportedMediaType: 'unsupported_media_type',
  changeRequestNotFound: 'change_request_not_found',
  changeRequestSettled: 'change_request_settled',
  idempotencyKeyReused: 'idempotency_key_reused',
  concurrentChange: 'concurrent_change',
  serviceUnavailable: 'service_unavailable',
  rateLimited: 'rate_limited',
  invalidConfiguration: 'invalid_configuration',
  invariantBroken: 'invariant_broken',
  /** A display name given as an endpoint's identity names more than one endpoint. */
  endpointIdentityAmbiguous: 'endpoint_identity_ambiguous',
  /** GET /api/problems/{code} for a code the service never answers with. */
  problemTypeNotFound: 'problem_type_not_found',
  assetNotFound: 'asset_not_found',
  /** GET /api/audit/verifications/{id} for an id no verification has. */
  verificationNotFound: 'verification_not_found',
  /** GET /api/audit/verify would walk more records than one request may: POST /api/audit/verifications instead. */
  verificationTooLarge: 'verification_too_large',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Every code a ServiceError can carry. */
export type ServiceErrorCode = ErrorCode | RejectionCode | TopologyCode;

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
  /** Extra members of its problem document (RFC 9457 extensions), such as a settled request's `changeRequestStatus`. */
  extensions?: Record<string, unknown>;
}

/** Base of every error this service raises on purpose. */
export abstract class ServiceError<Code extends ServiceErrorCode = ServiceErrorCode> extends Error {
  readonly errors: FieldError[];
  readonly extensions: Record<string, unknown>;

  constructor(
    readonly code: Code,
    message: string,
    options: ServiceErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.errors = options.errors ?? [];
    this.extensions = options.extensions ?? {};
  }
}

/** Input broke a rule of the contract; nothing was written. */
export class ValidationError extends ServiceError {}

/** The caller presented no credentials, or ones that identify no one; nothing was read or written. */
export class UnauthenticatedError extends ServiceError<typeof ErrorCode.unauthenticated> {}

/** The caller is known but holds none of the roles the operation needs; nothing was read or written. */
export class ForbiddenError extends ServiceError<typeof ErrorCode.forbidden> {}

/** The named thing does not exist. */
export class NotFoundError extends ServiceError {}

/** The request contradicts the directory's current state (a business rule refused it). */
export class ConflictError extends ServiceError {}

/** A display name names several endpoints: the caller must pick one by its SIP address (`matches`). */
export class AmbiguousIdentityError extends ConflictError {
  constructor(
    message: string,
    readonly matches: string[],
  ) {
    super(ErrorCode.endpointIdentityAmbiguous, message);
  }
}

/** The request is well-formed but cannot be processed as sent (an Idempotency-Key reused for a different request). */
export class UnprocessableError extends ServiceError {}

/** The input is larger than the channel it must travel on allows (a request body, a queue message). */
export class TooLargeError extends ServiceError {}

/** Another writer committed first; the caller re-reads and decides again. */
export class ConcurrencyError extends ServiceError<typeof ErrorCode.concurrentChange> {}

/** A dependency (storage, transport) is unreachable; the request may be retried after `retryAfterSeconds`. */
export class UnavailableError extends ServiceError<typeof ErrorCode.serviceUnavailable> {
  readonly retryAfterSeconds: number;

  constructor(
    code: typeof ErrorCode.serviceUnavailable,
    message: string,
    options: ServiceErrorOptions & { retryAfterSeconds?: number } = {},
  ) {
    super(code, message, options);
    this.retryAfterSeconds = options.retryAfterSeconds ?? 5;
  }
}

/** The caller has used up its rate (submissions per principal); it may try again after `retryAfterSeconds`. */
export class TooManyRequestsError extends ServiceError<typeof ErrorCode.rateLimited> {
  constructor(
    code: typeof ErrorCode.rateLimited,
    message: string,
    readonly retryAfterSeconds: number,
    options: ServiceErrorOptions = {},
  ) {
    super(code, message, options);
  }
}

/** The settings do not make a valid configuration; `errors` names each bad setting. Raised at start-up. */
export class ConfigurationError extends ServiceError<typeof ErrorCode.invalidConfiguration> {}

/** Something the code relies on does not hold: a bug, never the caller's fault, never worth a retry. */
export class InvariantError extends ServiceError<typeof ErrorCode.invariantBroken> {}
