import { randomUUID } from 'node:crypto';
import { CORRELATION_ID_PATTERN } from '../../domain/text';
import type { HttpInput } from './httpInput';
import type { HttpOutput } from './problems';

/** The header a caller names its correlation id in, and every answer echoes. */
export const CORRELATION_HEADER = 'x-correlation-id';

/**
 * The request's correlation id: the caller's when well-formed (CORRELATION_ID_PATTERN), else a new
 * one. A malformed id is replaced rather than refused: it is a label for tracing, and refusing it
 * would turn a logging nicety into a failed change; replacing it keeps forged text out of logs.
 */
export function correlationIdFor(headers: Pick<HttpInput['headers'], 'get'>): string {
  const given = headers.get(CORRELATION_HEADER)?.trim();
  return given && CORRELATION_ID_PATTERN.test(given) ? given : randomUUID();
}

/** The request as the entrypoint sees it: X-Correlation-Id reads as `id`, whatever the caller sent. */
export function withCorrelationId<R extends HttpInput>(request: R, id: string): HttpInput {
  return {
    method: request.method,
    url: request.url,
    params: request.params,
    query: request.query,
    // A getter: the Functions HttpRequest's body is a stream, read at most once, and only if needed.
    get body() {
      return request.body;
    },
    text: () => request.text(),
    headers: { get: (name: string) => (name.toLowerCase() === CORRELATION_HEADER ? id : request.headers.get(name)) },
  };
}

/** The answer with X-Correlation-Id set to `id`. */
export function echoCorrelationId(output: HttpOutput, id: string): HttpOutput {
  return { ...output, headers: { ...output.headers, [CORRELATION_HEADER]: id } };
}

/**
 * Wraps an HTTP handler so that it sees one correlation id (the caller's, or a generated one) and
 * every answer it gives, success or problem, echoes it: the one place X-Correlation-Id is set.
 */
export function correlated<A extends unknown[]>(
  handler: (request: HttpInput, ...rest: A) => Promise<HttpOutput>,
): (request: HttpInput, ...rest: A) => Promise<HttpOutput> {
  return async (request, ...rest) => {
    const id = correlationIdFor(request.headers);
    return echoCorrelationId(await handler(withCorrelationId(request, id), ...rest), id);
  };
}
