import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { HttpRequest, HttpResponse, type HttpResponseInit } from '@azure/functions';
import type { Registration } from './functionsRegistry';
import { CORRELATION_HEADER, correlationIdFor } from '../entrypoints/http/correlation';
import { answerClientError, answerOnSocket, hostProblems, problemResponse } from './hostProblems';
import { compileRoute, decodeParams, matchRoute, type Route } from './httpRoutes';
import { createInvocationContext, type HostLog } from './invocationContext';

/** The largest request body the host reads; functions enforce their own, smaller, limits. */
const MAX_HOST_BODY_BYTES = 4 * 1024 * 1024;

/**
 * The request line and headers together may not exceed this (Node's own default, stated so the
 * README's limit is this number): past it the host answers 431 before any function runs.
 */
export const MAX_HEADER_BYTES = 16 * 1024;

/** A client that has not sent its headers, or its whole request, by then is cut off (slow-loris). */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 60_000;

// RFC 9110 §7.2: Host = uri-host [ ":" port ], uri-host an IP literal, IPv4 address or reg-name.
const HOST_HEADER = /^(?:\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9\-._~!$&'()*+,;=]{1,253})(?::[0-9]{1,5})?$/;

/** The request's URL from its target and Host header, or undefined when either is malformed. */
function requestUrlOf(request: http.IncomingMessage): URL | undefined {
  const host = request.headers.host ?? 'localhost';
  if (!HOST_HEADER.test(host)) return undefined;
  try {
    return new URL(request.url ?? '/', `http://${host}`);
  } catch {
    return undefined;
  }
}

/** What the HTTP server needs: the HTTP-trigger registrations, host.json's route prefix, and the host log. */
export interface HttpTriggerOptions {
  registrations: Registration[];
  routePrefix: string;
  log: HostLog;
}

/**
 * The X-Correlation-Id header the host's own answers carry: the caller's when well-formed, else a new
 * one (the functions' answers echo theirs the same way, through `correlated`).
 */
function correlationOf(request: http.IncomingMessage): Record<string, string> {
  const given = request.headers[CORRELATION_HEADER];
  const value = Array.isArray(given) ? given.join(', ') : given;
  return { [CORRELATION_HEADER]: correlationIdFor({ get: () => value ?? null }) };
}

/** Reads the request body up to the host's limit; past it, answers 413 and resolves undefined. */
async function readBody(request: http.IncomingMessage, response: http.ServerResponse): Promise<Buffer[] | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_HOST_BODY_BYTES) {
      problemResponse(response, hostProblems.bodyTooLarge(MAX_HOST_BODY_BYTES), correlationOf(request));
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return chunks;
}

/** The request as @azure/functions gives it to a function: repeated headers joined, no body on GET or HEAD. */
function functionRequestOf(
  request: http.IncomingMessage,
  url: URL,
  method: string,
  params: Record<string, string>,
  chunks: Buffer[],
): HttpRequest {
  const headers = Object.fromEntries(
    Object.entries(request.headers).flatMap(([name, value]) =>
      value === undefined ? [] : [[name, Array.isArray(value) ? value.join(', ') : value]],
    ),
  );
  return new HttpRequest({
    method,
    url: url.toString(),
    headers,
    params,
    ...(chunks.length && method !== 'GET' && method !== 'HEAD' ? { body: { bytes: Buffer.concat(chunks) } } : {}),
  });
}

/** Resolves when the response can take more, or is gone; leaves no listener behind (a long export waits often). */
function drainedOrClosed(response: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}

/** Whether a function's result holds its whole body already (text, bytes or JSON), rather than producing it. */
function bodyIsWhole(result: HttpResponseInit | HttpResponse | undefined): boolean {
  if (result === undefined || result instanceof HttpResponse) return false;
  const body: unknown = result.body;
  return result.jsonBody !== undefined || typeof body === 'string' || body instanceof Uint8Array || body instanceof ArrayBuffer;
}

/** Writes what the function returned (an HttpResponse, its init, or nothing: 204). */
async function writeResponse(response: http.ServerResponse, result: HttpResponseInit | HttpResponse | undefined): Promise<void> {
  const output = result instanceof HttpResponse ? result : new HttpResponse(result ?? { status: 204 });
  const headers = Object.fromEntries(output.headers);
  if (output.body && bodyIsWhole(result)) {
    // Given whole (every JSON answer): one write, with its Content-Length, as the Functions host sends a buffered body.
    const body = new Uint8Array(await output.arrayBuffer());
    if (headers['content-length'] === undefined && headers['transfer-encoding'] === undefined)
      headers['content-length'] = String(body.byteLength);
    response.writeHead(output.status, headers);
    response.end(body);
    return;
  }
  response.writeHead(output.status, headers);
  // Streamed as the function produces it (an export can be larger than memory), with backpressure.
  if (output.body) {
    for await (const chunk of output.body) {
      if (response.write(chunk)) continue;
      // A client that went away (or half-closed its side: Node then ends the socket) never drains.
      if (!response.socket || response.socket.destroyed || !response.socket.writable) break;
      await drainedOrClosed(response);
    }
  }
  response.end();
}

/**
 * Serves HTTP triggers on node:http with the Functions host's routing: the route prefix, {params},
 * methods, 404 and 405 as problem details, a body limit, and responses streamed as produced.
 */
export class HttpTriggers {
  private readonly routes: Route[];
  private readonly log: HostLog;
  private readonly inFlight = new Set<Promise<void>>();
  private server: http.Server | undefined;

  /** Compiles the routes; nothing is served until `listen()`. */
  constructor(options: HttpTriggerOptions) {
    this.routes = options.registrations.map((registration) => compileRoute(options.routePrefix, registration));
    this.log = options.log;
  }

  /** Listens on hostname:port (port 0: a free one); resolves with the base URL. */
  async listen(port: number, hostname = '127.0.0.1'): Promise<string> {
    const server = http.createServer(
      { maxHeaderSize: MAX_HEADER_BYTES, headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
      (request, response) => this.track(this.handle(request, response)),
    );
    server.on('clientError', answerClientError);
    server.on('connect', (request: http.IncomingMessage, socket: Duplex) => this.answerConnect(request, socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, hostname, () => resolve());
    });
    const { port: listeningPort } = server.address() as AddressInfo;
    return `http://${hostname === '0.0.0.0' ? 'localhost' : hostname}:${listeningPort}`;
  }

  /** Stops accepting connections, closes idle ones, and waits for the requests being served. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await closed;
    await Promise.allSettled([...this.inFlight]);
  }

  /** CONNECT asks for a tunnel, which no function serves: 405 with the route's methods (or 404), not Node's silent close. */
  private answerConnect(request: http.IncomingMessage, socket: Duplex): void {
    let path = '/';
    try {
      path = new URL(request.url ?? '/', 'http://localhost').pathname;
    } catch {
      // An authority-form target (host:port) names no route.
    }
    const found = matchRoute(this.routes, 'CONNECT', path);
    if (found.kind === 'method-not-allowed')
      answerOnSocket(socket, hostProblems.methodNotAllowed('CONNECT', path), { allow: found.allow.join(', '), ...correlationOf(request) });
    else answerOnSocket(socket, hostProblems.notFound(path), correlationOf(request));
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /** Serves one request; a function that throws is a 500, or a cut connection once its response has begun. */
  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    try {
      await this.serve(request, response);
    } catch (error) {
      this.log(`http: ${String((error as Error | undefined)?.stack ?? error)}`);
      if (!response.headersSent) problemResponse(response, hostProblems.internal(), correlationOf(request));
      else response.destroy();
    }
  }

  private async serve(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = requestUrlOf(request);
    if (!url) return problemResponse(response, hostProblems.malformedHost(), correlationOf(request));
    const method = (request.method ?? 'GET').toUpperCase();
    const found = matchRoute(this.routes, method, url.pathname);
    if (found.kind === 'not-found') return problemResponse(response, hostProblems.notFound(url.pathname), correlationOf(request));
    if (found.kind === 'method-not-allowed') {
      return problemResponse(response, hostProblems.methodNotAllowed(method, url.pathname), {
        allow: found.allow.join(', '),
        ...correlationOf(request),
      });
    }
    const chunks = await readBody(request, response);
    if (!chunks) return;
    const params = decodeParams(found.route, found.captures);
    if (!params) return problemResponse(response, hostProblems.malformedPath(), correlationOf(request));
    const { registration } = found.route;
    const functionRequest = functionRequestOf(request, url, method, params, chunks);
    const result = await registration.handler(functionRequest, createInvocationContext(registration, this.log, {}));
    await writeResponse(response, result as HttpResponseInit | HttpResponse | undefined);
  }
}
