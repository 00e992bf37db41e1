import { randomBytes } from 'node:crypto';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, isSpanContextValid, type Link } from '@opentelemetry/api';
import type { Tracing } from '../application/ports/system';
import { isTraceparent, traceContextOf, traceIdOf, type TraceContext } from '../domain/traceContext';

/** The instrumentation scope our own spans are reported under. */
const TRACER_NAME = 'pchat-endpoints';

/**
 * A new trace with no span behind it (telemetry is off, or nothing was active): random ids, and
 * flags 00, "not sampled", since nothing records this hop. Loops only in the 2^-64 case of zeros.
 */
export function newTraceContext(random: (bytes: number) => Buffer = randomBytes): TraceContext {
  for (;;) {
    const traceparent = `00-${random(16).toString('hex')}-${random(8).toString('hex')}-00`;
    if (isTraceparent(traceparent)) return { traceparent };
  }
}

/**
 * The active span's context as W3C headers, through the propagator OpenTelemetry registered (the
 * Azure Monitor distro registers W3C Trace Context); undefined with no valid active span, or when
 * no propagator wrote a valid traceparent (telemetry off: the API's no-op propagator).
 */
function activeTraceContext(): TraceContext | undefined {
  const span = trace.getSpan(context.active());
  if (!span || !isSpanContextValid(span.spanContext())) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return traceContextOf(carrier['traceparent'], carrier['tracestate']);
}

/**
 * Tracing over the OpenTelemetry API. Without an SDK registered (APPLICATIONINSIGHTS_CONNECTION_STRING
 * unset) the API is a no-op: no span is ever active, so trace contexts are carried as they came.
 */
export function openTelemetryTracing(random: (bytes: number) => Buffer = randomBytes): Tracing {
  const tracer = trace.getTracer(TRACER_NAME);
  return {
    contextFor(parent) {
      const active = activeTraceContext();
      if (active && (parent === undefined || traceIdOf(active) === traceIdOf(parent))) return active;
      return parent ?? newTraceContext(random);
    },

    inSpan(name, parent, work) {
      const invocation = trace.getSpan(context.active());
      // The message's trace is the parent; the invocation the Functions host started is linked, so neither is lost.
      const parentContext = parent ? propagation.extract(ROOT_CONTEXT, { ...parent }) : context.active();
      const links: Link[] = parent && invocation ? [{ context: invocation.spanContext() }] : [];
      return tracer.startActiveSpan(name, { kind: SpanKind.CONSUMER, links }, parentContext, async (span) => {
        try {
          return await work();
        } catch (error) {
          span.recordException(error instanceof Error ? error : String(error));
          span.setStatus({ code: SpanStatusCode.ERROR });
          throw error;
        } finally {
          span.end();
        }
      });
    },
  };
}
