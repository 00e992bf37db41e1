import { z } from 'zod';
import { ErrorCode, TooLargeError, ValidationError } from '../../domain/errors';
import type { Principal } from '../../domain/principal';
import { fieldErrors } from '../fieldErrors';
import { UnsupportedMediaTypeError, type HttpOutput } from './problems';
import { correlationIdFor } from './correlation';

/** A `limit` query parameter: how many items one page holds, a whole number from 1 to `max`. */
export function pageLimit(max: number) {
  return z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(max, `must be at most ${max}`);
}

/** What an HTTP entrypoint reads from a request: the Functions HttpRequest fits this shape. */
export interface HttpInput {
  method: string;
  url: string;
  headers: { get(name: string): string | null };
  params: Record<string, string>;
  query: URLSearchParams;
  /** The body as it arrives (the Functions HttpRequest has it); read with a limit rather than whole. */
  body?: AsyncIterable<Uint8Array> | null;
  text(): Promise<string>;
}

/**
 * A URL on the public base URL (configured: PUBLIC_BASE_URL, WEBSITE_HOSTNAME or the local host's
 * origin), never on the request's Host or X-Forwarded-Host, which a caller controls. `path` starts
 * with `/`; without a base (a unit test's dependencies) the path alone is answered.
 */
export function absoluteUrl(publicBaseUrl: string | undefined, path: string): string {
  return `${publicBaseUrl ?? ''}${path}`;
}

/** Request bodies above this are refused with 413. */
export const MAX_BODY_BYTES = 64 * 1024;

/** JSON response with the given status. */
export function json(status: number, value: unknown, headers: Record<string, string> = {}): HttpOutput {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(value) };
}

function tooLarge(): TooLargeError {
  return new TooLargeError(ErrorCode.bodyTooLarge, `the body is larger than the limit of ${MAX_BODY_BYTES} bytes`, {
    errors: [{ pointer: '#', detail: `must be at most ${MAX_BODY_BYTES} bytes`, location: 'body' }],
  });
}

function isJsonMediaType(contentType: string | null): boolean {
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return mediaType === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The body as text, read chunk by chunk and abandoned as soon as it passes the limit, so a body sent
 * without Content-Length (chunked) cannot make the service buffer more than the limit. RFC 8259:
 * JSON travels as UTF-8, so bytes that are not UTF-8 are refused rather than silently replaced.
 */
async function readBoundedText(request: HttpInput): Promise<string> {
  if (!request.body) {
    const text = await request.text();
    if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) throw tooLarge();
    return text;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  // Leaving the loop early (the throw) cancels the stream: nothing past the limit is read.
  for await (const chunk of request.body) {
    size += chunk.byteLength;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  try {
    return utf8.decode(Buffer.concat(chunks));
  } catch (error) {
    throw new ValidationError(ErrorCode.malformedJson, 'the body is not valid UTF-8', {
      cause: error,
      errors: [{ pointer: '#', detail: 'must be UTF-8 encoded JSON', location: 'body' }],
    });
  }
}

/**
 * Reads a JSON body: 415 unless the media type is JSON, 413 above 64 KiB, 400 when it does not
 * parse. An absent body reads as `undefined` when `optional`.
 */
export async function readJsonBody(request: HttpInput, options: { optional?: boolean } = {}): Promise<unknown> {
  const declaredLength = Number(request.headers.get('content-length') ?? '0');
  if (declaredLength > MAX_BODY_BYTES) throw tooLarge();
  const text = await readBoundedText(request);
  if (text.length === 0) {
    if (options.optional) return undefined;
    throw new ValidationError(ErrorCode.bodyRequired, 'a JSON body is required', {
      errors: [{ pointer: '#', detail: 'the request body must be a JSON object', location: 'body' }],
    });
  }
  if (!isJsonMediaType(request.headers.get('content-type'))) {
    const mediaType = request.headers.get('content-type')?.split(';')[0]?.trim() || 'an unlabelled body';
    throw new UnsupportedMediaTypeError(ErrorCode.unsupportedMediaType, `the body must be sent as application/json, not ${mediaType}`, {
      errors: [{ pointer: '#', detail: 'Content-Type must be application/json', location: 'header' }],
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError(ErrorCode.malformedJson, `the body is not valid JSON: ${(error as Error).message}`, {
      cause: error,
      errors: [{ pointer: '#', detail: 'must be valid JSON', location: 'body' }],
    });
  }
}

/** Parses a value with a schema, or throws ValidationError naming each bad field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, location: 'body' | 'query' | 'path'): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const errors = fieldErrors(parsed.error, location);
  const what = location === 'body' ? 'the request body' : location === 'query' ? 'the query string' : 'the URL';
  throw new ValidationError(ErrorCode.validationFailed, `${what} is invalid: ${errors.map((e) => e.detail).join('; ')}`, { errors });
}

/** The query string as an object; a repeated parameter is refused rather than silently picked. */
export function queryObject(request: HttpInput): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of request.query) {
    if (key in result) {
      throw new ValidationError(ErrorCode.validationFailed, `query parameter ${key} is repeated`, {
        errors: [{ pointer: `#/${key}`, detail: `${key} must be given once`, location: 'query' }],
      });
    }
    result[key] = value;
  }
  return result;
}

/**
 * Runs a read whose filter came from the query string: a ValidationError it raises about a filter
 * field (a cursor this service did not issue) is about that query parameter.
 */
export async function fromQuery<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new ValidationError(error.code, error.message, {
      cause: error,
      errors: error.errors.map((e) => ({ ...e, location: 'query' as const })),
    });
  }
}

/**
 * The caller's correlation id (X-Correlation-Id) when well-formed, else a new one. Behind
 * `correlated` (every function's binding) the header already holds the id the answer echoes.
 */
export function correlationIdOf(request: HttpInput): string {
  return correlationIdFor(request.headers);
}

/**
 * Who asks, as the topology use cases take it: the actor is the authenticated principal, never
 * anything the request says about itself.
 */
export function requesterOf(request: HttpInput, principal: Principal): { actor: string; correlationId: string } {
  return { actor: principal.name, correlationId: correlationIdOf(request) };
}
