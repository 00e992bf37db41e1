import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeRequestBodySchema } from '../../../../shared/domain/changeRequest';
import { ValidationError } from '../../../../shared/domain/errors';
import { MAX_BODY_BYTES, parseInput, readJsonBody, type HttpInput } from '../../../../shared/entrypoints/http/httpInput';
import { problemForError } from '../../../../shared/entrypoints/http/problems';

/** A request with the given body and headers; header names are case-insensitive as in fetch's Headers. */
function aRequest(body: string, headers: Record<string, string> = { 'content-type': 'application/json' }): HttpInput {
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    method: 'POST',
    url: 'http://localhost:7071/api/change-requests',
    headers: { get: (name) => lower.get(name.toLowerCase()) ?? null },
    params: {},
    query: new URLSearchParams(),
    text: async () => body,
  };
}

/** Asserts the error answers with this status and code. */
function httpInputError(status: number, code: string) {
  return (error: unknown) => {
    const problem = problemForError(error);
    assert.equal(problem.status, status, `expected ${status}, got ${problem.status} for ${String(error)}`);
    assert.equal(JSON.parse(problem.body).code, code);
    return true;
  };
}

describe('readJsonBody', () => {
  it('returns the parsed value when the body is JSON', async () => {
    const value = await readJsonBody(aRequest('{"operation":"delete"}', { 'Content-Type': 'application/json; charset=utf-8' }));

    assert.deepEqual(value, { operation: 'delete' });
  });

  it('accepts a +json media type when the body is labelled application/merge-patch+json', async () => {
    assert.deepEqual(await readJsonBody(aRequest('[1]', { 'content-type': 'application/merge-patch+json' })), [1]);
  });

  it('refuses with 415 when the content type is text/plain', async () => {
    await assert.rejects(readJsonBody(aRequest('{}', { 'content-type': 'text/plain' })), httpInputError(415, 'unsupported_media_type'));
  });

  it('refuses with 415 when there is no content type', async () => {
    await assert.rejects(readJsonBody(aRequest('{}', {})), httpInputError(415, 'unsupported_media_type'));
  });

  it('refuses with 413 when the body is over 64 KiB', async () => {
    const body = JSON.stringify({ pad: 'x'.repeat(MAX_BODY_BYTES) });

    await assert.rejects(readJsonBody(aRequest(body)), httpInputError(413, 'body_too_large'));
  });

  it('refuses with 413 when Content-Length declares more than 64 KiB', async () => {
    const request = aRequest('{}', { 'content-type': 'application/json', 'content-length': String(MAX_BODY_BYTES + 1) });

    await assert.rejects(readJsonBody(request), httpInputError(413, 'body_too_large'));
  });

  it('accepts exactly 64 KiB when the body is at the limit', async () => {
    const body = `"${'x'.repeat(MAX_BODY_BYTES - 2)}"`;

    assert.equal(((await readJsonBody(aRequest(body))) as string).length, MAX_BODY_BYTES - 2);
  });

  it('refuses with 400 malformed_json when the body does not parse', async () => {
    await assert.rejects(readJsonBody(aRequest('{"operation":')), httpInputError(400, 'malformed_json'));
  });

  it('returns undefined when the body is empty and optional', async () => {
    assert.equal(await readJsonBody(aRequest('', {}), { optional: true }), undefined);
  });

  it('refuses with 400 body_required when the body is empty and required', async () => {
    await assert.rejects(readJsonBody(aRequest('')), httpInputError(400, 'body_required'));
  });

  it('stops reading a streamed body without Content-Length as soon as it passes 64 KiB, and refuses with 413', async () => {
    let chunksRead = 0;
    const endless = (async function* () {
      for (;;) {
        chunksRead++;
        yield new Uint8Array(16 * 1024).fill(0x20);
      }
    })();

    await assert.rejects(readJsonBody({ ...aRequest(''), body: endless }), httpInputError(413, 'body_too_large'));
    assert.equal(chunksRead, 5, 'the fifth 16 KiB chunk crosses the limit; nothing after it is read');
  });

  it('refuses with 400 malformed_json when the streamed body is not UTF-8', async () => {
    const body = (async function* () {
      yield Buffer.from('{"displayName":"', 'utf8');
      yield Uint8Array.of(0xc3, 0x28);
      yield Buffer.from('"}', 'utf8');
    })();

    await assert.rejects(readJsonBody({ ...aRequest(''), body }), httpInputError(400, 'malformed_json'));
  });
});

describe('parseInput', () => {
  function pointersFor(value: unknown): string[] {
    try {
      parseInput(ChangeRequestBodySchema, value, 'body');
    } catch (error) {
      assert.ok(error instanceof ValidationError);
      assert.equal(error.code, 'validation_failed');
      assert.ok(error.errors.every((e) => e.location === 'body'));
      return error.errors.map((e) => e.pointer);
    }
    return assert.fail('expected a ValidationError');
  }

  const valid = { operation: 'create', sipAddress: 'sip:chat@contoso.com', poolFqdn: 'pcpool.contoso.com' };

  it('returns the normalized request when the body is valid', () => {
    const parsed = parseInput(ChangeRequestBodySchema, { ...valid, sipAddress: ' SIP:Chat@Contoso.com ' }, 'body');

    assert.deepEqual(parsed, valid);
  });

  it('points at #/sipAddress when the SIP address is invalid', () => {
    assert.deepEqual(pointersFor({ ...valid, sipAddress: 'tel:+14255550100' }), ['#/sipAddress']);
  });

  it('points at #/poolFqdn when the pool FQDN is invalid', () => {
    assert.deepEqual(pointersFor({ ...valid, poolFqdn: 'pcpool' }), ['#/poolFqdn']);
  });

  it('points at #/extra when the body has an unknown key', () => {
    assert.deepEqual(pointersFor({ ...valid, extra: 1 }), ['#/extra']);
  });

  it('points at #/operation when the operation is update', () => {
    assert.deepEqual(pointersFor({ ...valid, operation: 'update' }), ['#/operation']);
  });

  it('points at each missing field when a create has only its operation', () => {
    assert.deepEqual(pointersFor({ operation: 'create' }), ['#/sipAddress', '#/poolFqdn']);
  });

  it('names the field and the rule in the detail when the SIP address is invalid', () => {
    try {
      parseInput(ChangeRequestBodySchema, { ...valid, sipAddress: 'sip:chat@contoso.com:5061' }, 'body');
      assert.fail('expected a ValidationError');
    } catch (error) {
      assert.ok(error instanceof ValidationError);
      assert.deepEqual(error.errors, [
        {
          pointer: '#/sipAddress',
          detail: 'sipAddress SIP address must not carry a port, URI parameters or headers (sip:user@host)',
          location: 'body',
        },
      ]);
    }
  });
});

describe('parseInput at the root', () => {
  it('points at # when the body itself is not an object', () => {
    try {
      parseInput(ChangeRequestBodySchema, 'create', 'body');
      assert.fail('expected a ValidationError');
    } catch (error) {
      assert.ok(error instanceof ValidationError);
      assert.deepEqual(
        error.errors.map((e) => e.pointer),
        ['#'],
      );
    }
  });

  it('escapes ~ and / when an unknown key contains them', () => {
    try {
      parseInput(ChangeRequestBodySchema, { operation: 'delete', sipAddress: 'sip:chat@contoso.com', 'a/b~c': 1 }, 'body');
      assert.fail('expected a ValidationError');
    } catch (error) {
      assert.ok(error instanceof ValidationError);
      assert.deepEqual(
        error.errors.map((e) => e.pointer),
        ['#/a~1b~0c'],
      );
    }
  });
});
