import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { newTraceContext, openTelemetryTracing } from '../../../shared/adapters/tracing';
import { traceContextOf, traceIdOf } from '../../../shared/domain/traceContext';

const CALLER = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'congo=t61rcWkgMzE' };

describe('W3C trace context format', () => {
  it('accepts version 00 with non-zero ids, drops the rest (and a tracestate without a valid traceparent)', () => {
    assert.deepEqual(traceContextOf(CALLER.traceparent, CALLER.tracestate), CALLER);
    assert.deepEqual(traceContextOf(CALLER.traceparent, 'not a=tracestate,'), { traceparent: CALLER.traceparent });
    for (const bad of [
      undefined,
      42,
      '',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g',
    ]) {
      assert.equal(traceContextOf(bad, CALLER.tracestate), undefined, String(bad));
    }
  });

  it('makes new trace contexts that are valid and unsampled', () => {
    const made = newTraceContext();
    assert.deepEqual(traceContextOf(made.traceparent), made);
    assert.match(made.traceparent, /-00$/);
    assert.deepEqual(
      newTraceContext((n) => Buffer.alloc(n, 0xab)),
      { traceparent: `00-${'ab'.repeat(16)}-${'ab'.repeat(8)}-00` },
    );
  });
});

describe('openTelemetryTracing with OpenTelemetry off (no SDK registered)', () => {
  it("carries the caller's context as it came, and starts a new trace when there is none", async () => {
    const tracing = openTelemetryTracing();
    assert.deepEqual(tracing.contextFor(CALLER), CALLER);
    assert.match(tracing.contextFor(undefined).traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    // No span: the work just runs, and inside it the parent is still what is carried.
    assert.deepEqual(await tracing.inSpan('apply', CALLER, () => Promise.resolve(tracing.contextFor(CALLER))), CALLER);
  });
});

describe('openTelemetryTracing with an OpenTelemetry SDK registered', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  before(() => provider.register());
  after(async () => {
    await provider.shutdown();
    trace.disable();
  });

  it("propagates the active span's context, in the parent's trace, through the registered W3C propagator", async () => {
    const tracing = openTelemetryTracing();

    const inside = await tracing.inSpan('apply endpoint create', CALLER, () => Promise.resolve(tracing.contextFor(CALLER)));

    const [span] = exporter.getFinishedSpans();
    assert.equal(span?.name, 'apply endpoint create');
    assert.equal(span?.spanContext().traceId, traceIdOf(CALLER));
    assert.equal(span?.parentSpanContext?.spanId, '00f067aa0ba902b7');
    assert.equal(inside.traceparent, `00-${traceIdOf(CALLER)}-${span?.spanContext().spanId}-01`);
    assert.equal(inside.tracestate, CALLER.tracestate);
  });

  it("keeps a stored context of another trace rather than the active span's", async () => {
    const tracing = openTelemetryTracing();
    const other = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };

    const inside = await tracing.inSpan('apply endpoint create', CALLER, () => Promise.resolve(tracing.contextFor(other)));

    assert.deepEqual(inside, other);
  });
});
