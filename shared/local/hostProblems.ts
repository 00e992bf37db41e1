import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { CORRELATION_HEADER } from '../entrypoints/http/correlation';
import { problemTypeUri } from '../entrypoints/http/problems';

/**
 * The answers the local host gives itself, before or instead of a function: problem details
 * (RFC 9457) with a stable `code` and, where a part of the request is to blame, an `errors` entry
 * naming it, like the functions' own problems.
 */
export interface HostProblem {
  status: number;
  title: string;
  code: string;
  detail: string;
  errors?: Array<{ pointer: string; detail: string; location: 'path' | 'header' | 'body' }>;
}

const PROBLEM_JSON = 'application/problem+json; charset=utf-8';

function bodyOf(problem: HostProblem): string {
  const { status, title, code, detail, errors } = problem;
  // The code's explanation page, relative to the request (the host's answers know no public base URL).
  return JSON.stringify({ type: problemTypeUri(code), title, status, detail, code, ...(errors ? { errors } : {}) });
}

/** Answers with the problem on a response the server is writing. */
export function problemResponse(response: http.ServerResponse, problem: HostProblem, headers: Record<string, string> = {}): void {
  response.writeHead(problem.status, { 'content-type': PROBLEM_JSON, ...headers });
  response.end(bodyOf(problem));
}

/** Writes the problem as a whole HTTP/1.1 response on a raw socket and closes it (no request object exists). */
export function answerOnSocket(socket: Duplex, problem: HostProblem, headers: Record<string, string> = {}): void {
  const body = bodyOf(problem);
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.end(
    `HTTP/1.1 ${problem.status} ${problem.title}\r\ncontent-type: ${PROBLEM_JSON}\r\n${extra.join('')}` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** The local host's own problem codes (the catalog of GET /api/problems/{code} explains each). */
export const HOST_PROBLEM_CODES = [
  'route_not_found',
  'method_not_allowed',
  'malformed_path',
  'malformed_request',
  'body_too_large',
  'internal_error',
  'headers_too_large',
  'request_timeout',
] as const;

export const hostProblems = {
  notFound: (path: string): HostProblem => ({
    status: 404,
    title: 'Not Found',
    code: 'route_not_found',
    detail: `no function serves ${path}`,
  }),
  methodNotAllowed: (method: string, path: string): HostProblem => ({
    status: 405,
    title: 'Method Not Allowed',
    code: 'method_not_allowed',
    detail: `${method} is not allowed on ${path}`,
  }),
  malformedPath: (): HostProblem => ({
    status: 400,
    title: 'Bad Request',
    code: 'malformed_path',
    detail: 'the URL path is not valid percent-encoding',
    errors: [{ pointer: '#/path', detail: 'must be valid percent-encoded UTF-8', location: 'path' }],
  }),
  malformedHost: (): HostProblem => ({
    status: 400,
    title: 'Bad Request',
    code: 'malformed_request',
    detail: 'the Host header or the request target is malformed',
    errors: [{ pointer: '#/host', detail: 'Host must be host[:port] (RFC 9110)', location: 'header' }],
  }),
  bodyTooLarge: (limit: number): HostProblem => ({
    status: 413,
    title: 'Content Too Large',
    code: 'body_too_large',
    detail: `the body exceeds ${limit} bytes`,
    errors: [{ pointer: '#', detail: `must be at most ${limit} bytes`, location: 'body' }],
  }),
  internal: (): HostProblem => ({
    status: 500,
    title: 'Internal Server Error',
    code: 'internal_error',
    detail: 'the local host failed to run the function',
  }),
};

/** The problem for a request Node's parser refused before any route saw it. */
function clientErrorProblem(code: string | undefined): HostProblem {
  if (code === 'HPE_HEADER_OVERFLOW')
    return {
      status: 431,
      title: 'Request Header Fields Too Large',
      code: 'headers_too_large',
      detail: 'the request line and headers are larger than the host reads',
      errors: [{ pointer: '#', detail: 'the request line and headers must fit the limit', location: 'header' }],
    };
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return { status: 408, title: 'Request Timeout', code: 'request_timeout', detail: 'the request did not arrive in time' };
  return { status: 400, title: 'Bad Request', code: 'malformed_request', detail: 'the request line or a header could not be read' };
}

/**
 * Answers a request the parser could not read (a bad request line, a malformed or oversized header,
 * a timeout) with problem details and closes the connection, instead of Node's bare 400.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  // The request could not be read, so neither can its X-Correlation-Id: the answer names a new one.
  answerOnSocket(socket, clientErrorProblem(error.code), { [CORRELATION_HEADER]: randomUUID() });
}
