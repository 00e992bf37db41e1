import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConcurrencyError, ConflictError, NotFoundError, UnavailableError, ValidationError } from '../../../shared/domain/errors';
import { HttpInputError, problemForError, type TextOutput } from '../../../shared/entrypoints/problems';

const PROBLEM_JSON = 'application/problem+json; charset=utf-8';

function bodyOf(output: TextOutput): Record<string, unknown> {
  return JSON.parse(output.body ?? 'null') as Record<string, unknown>;
}

describe('problemForError', () => {
  it('answers 400 with the field errors when given a ValidationError', () => {
    const errors = [{ pointer: '#/sipAddress', detail: 'sipAddress is bad', location: 'body' as const }];

    const output = problemForError(new ValidationError('the request body is invalid', errors));

    assert.equal(output.status, 400);
    assert.equal(output.headers?.['content-type'], PROBLEM_JSON);
    assert.deepEqual(bodyOf(output), {
      type: '/problems/validation-failed', title: 'Bad Request', status: 400, detail: 'the request body is invalid', code: 'validation_failed', errors,
    });
  });

  it('answers 404 with its code when given a NotFoundError', () => {
    const output = problemForError(new NotFoundError('no endpoint sip:x@contoso.com', 'endpoint_not_found'));

    assert.equal(output.status, 404);
    assert.equal(output.headers?.['content-type'], PROBLEM_JSON);
    assert.deepEqual(bodyOf(output), {
      type: '/problems/endpoint-not-found', title: 'Not Found', status: 404, detail: 'no endpoint sip:x@contoso.com', code: 'endpoint_not_found',
    });
  });

  it('answers 409 with its code when given a ConflictError', () => {
    const output = problemForError(new ConflictError('domain in use', 'sip_domain_in_use'));

    assert.equal(output.status, 409);
    assert.equal(output.headers?.['content-type'], PROBLEM_JSON);
    assert.equal(bodyOf(output).code, 'sip_domain_in_use');
    assert.equal(bodyOf(output).title, 'Conflict');
    assert.equal('errors' in bodyOf(output), false);
  });

  it('answers 503 with retry-after when given an UnavailableError', () => {
    const output = problemForError(new UnavailableError('table storage is unreachable', 12));

    assert.equal(output.status, 503);
    assert.deepEqual(output.headers, { 'content-type': PROBLEM_JSON, 'retry-after': '12' });
    assert.equal(bodyOf(output).code, 'service_unavailable');
    assert.equal(bodyOf(output).detail, 'table storage is unreachable');
  });

  it('answers 503 with retry-after 1 when given a ConcurrencyError', () => {
    const output = problemForError(new ConcurrencyError());

    assert.equal(output.status, 503);
    assert.equal(output.headers?.['retry-after'], '1');
    assert.equal(bodyOf(output).code, 'concurrent_change');
  });

  it('answers with its own status when given an HttpInputError', () => {
    const output = problemForError(new HttpInputError(415, 'unsupported_media_type', 'send JSON'));

    assert.equal(output.status, 415);
    assert.equal(bodyOf(output).title, 'Unsupported Media Type');
  });

  it('answers 500 without leaking the message when given an unknown error', () => {
    const output = problemForError(new TypeError('secret connection string AccountKey=abc'));

    assert.equal(output.status, 500);
    assert.equal(output.headers?.['content-type'], PROBLEM_JSON);
    assert.deepEqual(bodyOf(output), {
      type: '/problems/internal-error', title: 'Internal Server Error', status: 500, detail: 'an unexpected error occurred; it has been logged', code: 'internal_error',
    });
    assert.doesNotMatch(output.body ?? '', /AccountKey/);
  });
});
