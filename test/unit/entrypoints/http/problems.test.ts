import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConcurrencyError,
  ConfigurationError,
  ConflictError,
  ForbiddenError,
  InvariantError,
  NotFoundError,
  TooLargeError,
  UnauthenticatedError,
  UnavailableError,
  UnprocessableError,
  ValidationError,
} from '../../../../shared/domain/errors';
import { problemForError, UnsupportedMediaTypeError, type TextOutput } from '../../../../shared/entrypoints/http/problems';

const PROBLEM_JSON = 'application/problem+json; charset=utf-8';

function bodyOf(output: TextOutput): Record<string, unknown> {
  return JSON.parse(output.body ?? 'null') as Record<string, unknown>;
}

describe('problemForError', () => {
  it('answers 400 with the field errors when given a ValidationError', () => {
    const errors = [{ pointer: '#/sipAddress', detail: 'sipAddress is bad', location: 'body' as const }];

    const output = problemForError(new ValidationError('validation_failed', 'the request body is invalid', { errors }));

    assert.equal(output.status, 400);
    assert.equal(output.headers?.['content-type'], PROBLEM_JSON);
    assert.deepEqual(bodyOf(output), {
      type: '/api/problems/validation_failed',
      title: 'Bad Request',
      status: 400,
      detail: 'the request body is invalid',
      code: 'validation_failed',
      errors,
    });
  });

  it('answers 404 with its code when given a NotFoundError', () => {
    const output = problemForError(new NotFoundError('endpoint_not_found', 'no endpoint sip:x@contoso.com'));

    assert.equal(output.status, 404);
    assert.equal(output.headers?.['content-type'], PROBLEM_JSON);
    assert.deepEqual(bodyOf(output), {
      type: '/api/problems/endpoint_not_found',
      title: 'Not Found',
      status: 404,
      detail: 'no endpoint sip:x@contoso.com',
      code: 'endpoint_not_found',
    });
  });

  it('answers 401 for missing or unknown credentials and 403 for a missing role, with the header they are about', () => {
    const errors = [{ pointer: '#/authorization', detail: 'the API key is not valid', location: 'header' as const }];
    const cases = [
      [new UnauthenticatedError('unauthenticated', 'the API key is not valid', { errors }), 401, 'Unauthorized'],
      [new ForbiddenError('forbidden', 'this operation needs the auditor role', { errors }), 403, 'Forbidden'],
    ] as const;

    for (const [error, status, title] of cases) {
      const output = problemForError(error);
      assert.equal(output.headers?.['content-type'], PROBLEM_JSON);
      assert.deepEqual(bodyOf(output), {
        type: `/api/problems/${error.code}`,
        title,
        status,
        detail: error.message,
        code: error.code,
        errors,
      });
    }
  });

  it('answers 409 with its code when given a ConflictError', () => {
    const output = problemForError(new ConflictError('sip_domain_in_use', 'domain in use'));

    assert.equal(output.status, 409);
    assert.equal(output.headers?.['content-type'], PROBLEM_JSON);
    assert.equal(bodyOf(output).code, 'sip_domain_in_use');
    assert.equal(bodyOf(output).title, 'Conflict');
    assert.equal('errors' in bodyOf(output), false);
  });

  it('answers 503 with retry-after when given an UnavailableError', () => {
    const output = problemForError(new UnavailableError('service_unavailable', 'table storage is unreachable', { retryAfterSeconds: 12 }));

    assert.equal(output.status, 503);
    assert.deepEqual(output.headers, { 'content-type': PROBLEM_JSON, 'retry-after': '12' });
    assert.equal(bodyOf(output).code, 'service_unavailable');
    assert.equal(bodyOf(output).detail, 'table storage is unreachable');
  });

  it('answers 503 with retry-after 1 when given a ConcurrencyError', () => {
    const output = problemForError(new ConcurrencyError('concurrent_change', 'other writers kept committing first'));

    assert.equal(output.status, 503);
    assert.equal(output.headers?.['retry-after'], '1');
    assert.equal(bodyOf(output).code, 'concurrent_change');
  });

  it('answers 413, 415 and 422 for a body too large, in the wrong media type, or with a reused Idempotency-Key', () => {
    const cases = [
      [new TooLargeError('body_too_large', 'too big'), 413, 'Content Too Large'],
      [new UnsupportedMediaTypeError('unsupported_media_type', 'send JSON'), 415, 'Unsupported Media Type'],
      [new UnprocessableError('idempotency_key_reused', 'reused'), 422, 'Unprocessable Content'],
    ] as const;

    for (const [error, status, title] of cases) {
      const output = problemForError(error);
      assert.equal(output.status, status);
      assert.deepEqual([bodyOf(output).title, bodyOf(output).code], [title, error.code]);
    }
  });

  it("answers 500 invalid_configuration without the setting's content when given a ConfigurationError", () => {
    const output = problemForError(
      new ConfigurationError('invalid_configuration', 'AUDIT_SIGNING_KEY: is not a PEM key (-----BEGIN secret)'),
    );

    assert.equal(output.status, 500);
    assert.equal(bodyOf(output).code, 'invalid_configuration');
    assert.doesNotMatch(output.body, /BEGIN/);
  });

  it('answers 500 internal_error, never a retryable 503, when given a broken invariant', () => {
    const output = problemForError(new InvariantError('invariant_broken', 'ticket 3 held but nobody waits'));

    assert.equal(output.status, 500);
    assert.equal(bodyOf(output).code, 'internal_error');
    assert.equal(output.headers?.['retry-after'], undefined);
  });

  it('answers 500 without leaking the message when given an unknown error', () => {
    const output = problemForError(new TypeError('secret connection string AccountKey=abc'));

    assert.equal(output.status, 500);
    assert.equal(output.headers?.['content-type'], PROBLEM_JSON);
    assert.deepEqual(bodyOf(output), {
      type: '/api/problems/internal_error',
      title: 'Internal Server Error',
      status: 500,
      detail: 'an unexpected error occurred; it has been logged',
      code: 'internal_error',
    });
    assert.doesNotMatch(output.body ?? '', /AccountKey/);
  });
});
