import type { TraceContext } from '../../domain/traceContext';

/** Time, injectable so tests can pin it. */
export interface Clock {
  now(): Date;
}

/** New ids, injectable so tests can predict them. */
export interface IdGenerator {
  next(): string;
}

/**
 * The fields that tie a log line to its invocation and request. Each is bound once, where it becomes
 * known (the binding: function name and invocation id; the HTTP entrypoint: correlation id and
 * principal; the queue entrypoint: change-request id too), by `Logger.with`, never threaded by hand.
 * They name things, never carry a credential, a header's value or a body.
 */
export interface LogFields {
  functionName?: string;
  invocationId?: string;
  correlationId?: string | null;
  changeRequestId?: string;
  principal?: string | null;
  /** The W3C trace id the work belongs to, to find its spans (Application Insights' operation id). */
  traceId?: string;
}

/** Where diagnostics go: the console as JSON lines, which the Functions host forwards to its log. */
export interface Logger {
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  /** A logger writing these fields on every line besides its own (a line's own data names what happened). */
  with(fields: LogFields): Logger;
}

/**
 * Distributed tracing, W3C Trace Context. With OpenTelemetry on, the active span is the trace;
 * with it off there are no spans, and trace contexts are only carried along (or made up new).
 */
export interface Tracing {
  /**
   * The trace context to hand on for work that belongs to `parent` (the caller's, or one stored
   * with a request): the active span's when it is in that trace (or when there is no parent), else
   * `parent` itself, else a new trace, so every request has one.
   */
  contextFor(parent: TraceContext | undefined): TraceContext;
  /** Runs `work` in a span named `name`, a child of `parent` (with telemetry off: just runs it). */
  inSpan<T>(name: string, parent: TraceContext | undefined, work: () => Promise<T>): Promise<T>;
}
