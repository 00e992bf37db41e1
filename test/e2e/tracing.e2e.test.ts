import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { encodeQueueMessage } from '../../shared/adapters/transportRules';
import { changeRequestIdForMessage } from '../../shared/application/changeRequests/messages';
import { aCorrelationId, aTopology, publishedEventsAbout, settledRequest } from '../support/apiData';
import { aCreateRequest } from '../support/builders';
import { apiClient, drainQueue, eventually, startE2EEnvironment, type ApiCall, type E2EEnvironment } from '../support/localHost';

/**
 * W3C trace context end to end, over real HTTP with authentication on: the traceparent a caller
 * submits travels in the queue message to the apply and out on the CloudEvent (the distributed-
 * tracing extension), and every log line of the work names its request. OpenTelemetry is off here
 * (no APPLICATIONINSIGHTS_CONNECTION_STRING), so the trace is carried, not recorded.
 */

let env: E2EEnvironment;
const call: ApiCall = (...args) => apiClient(env.baseUrl, env.keys.all)(...args);
const asSubmitter = () => ({ authorization: `Bearer ${env.keys.submitter}` });

/** A traceparent of a fresh trace, as a caller's tracer would send it. */
function aTraceparent(): { traceparent: string; traceId: string } {
  const traceId = randomBytes(16).toString('hex');
  return { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`, traceId };
}

const traceIdOf = (traceparent: string) => traceparent.split('-')[1];
const VALID_TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The host's JSON log lines (the local host also writes plain lines of its own). */
function jsonLogLines(): Array<Record<string, unknown>> {
  return env.logs.flatMap((line): Array<Record<string, unknown>> => {
    try {
      const parsed: unknown = JSON.parse(line);
      return parsed !== null && typeof parsed === 'object' ? [{ ...parsed }] : [];
    } catch {
      return [];
    }
  });
}

describe('W3C trace context from the HTTP submission to the CloudEvent', () => {
  before(async () => {
    env = await startE2EEnvironment({ loadDemoTopology: false });
  });
  after(async () => {
    await env.stop();
  });

  it("puts a submitted traceparent's trace id (and its tracestate) on the emitted event, and names the request in every log line", async () => {
    const topology = await aTopology(call);
    const address = topology.address('traced');
    const { traceparent, traceId } = aTraceparent();
    const correlationId = aCorrelationId();

    const accepted = await call('POST', '/change-requests', aCreateRequest({ sipAddress: address, poolFqdn: topology.pool() }), {
      ...asSubmitter(),
      'x-correlation-id': correlationId,
      traceparent,
      tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
    });

    assert.equal(accepted.status, 202);
    const id = accepted.body.id as string;
    const final = await settledRequest(call, id);
    assert.equal(final.status, 'applied');
    assert.deepEqual(final.traceContext, { traceparent, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' });

    const events = await publishedEventsAbout(env, address);
    assert.equal(events.length, 1);
    assert.equal(traceIdOf(events[0].traceparent), traceId);
    assert.match(events[0].traceparent, VALID_TRACEPARENT);
    assert.equal(events[0].tracestate, 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
    // The trace rides beside the audit record, never in it: audit hashes are as before.
    assert.deepEqual(
      Object.keys(events[0].data).filter((key) => key.startsWith('trace')),
      [],
    );

    // The submit's and the apply's log lines: function, invocation, correlation id, request, principal, trace.
    const lines = jsonLogLines();
    const submitted = lines.find((line) => line['message'] === 'change request accepted' && line['changeRequestId'] === id);
    assert.deepEqual(
      [submitted?.['functionName'], submitted?.['correlationId'], submitted?.['principal'], submitted?.['traceId']],
      ['submitChangeRequest', correlationId, env.principals.submitter, traceId],
    );
    assert.match(String(submitted?.['invocationId']), /^[0-9a-f-]{36}$/);
    const applied = lines.find((line) => line['message'] === 'endpoint create settled' && line['changeRequestId'] === id);
    assert.deepEqual(
      [applied?.['functionName'], applied?.['correlationId'], applied?.['principal'], applied?.['traceId'], applied?.['status']],
      ['applyEndpointCreate', correlationId, 'queue:endpoint-create', traceId, 'applied'],
    );
    assert.match(String(applied?.['invocationId']), /^[0-9a-f-]{36}$/);
    // Never a credential.
    assert.equal(
      env.logs.some((line) => Object.values(env.keys).some((key) => line.includes(key))),
      false,
    );
  });

  it('ignores a malformed traceparent: the request is accepted and its event carries a new, valid trace', async () => {
    const topology = await aTopology(call);
    const address = topology.address('untraced');
    const malformed = '00-00000000000000000000000000000000-00f067aa0ba902b7-01';

    const accepted = await call('POST', '/change-requests', aCreateRequest({ sipAddress: address, poolFqdn: topology.pool() }), {
      ...asSubmitter(),
      traceparent: malformed,
      tracestate: 'congo=t61rcWkgMzE',
    });

    assert.equal(accepted.status, 202);
    const final = await settledRequest(call, accepted.body.id as string);
    assert.equal(final.status, 'applied');
    const events = await publishedEventsAbout(env, address);
    assert.equal(events.length, 1);
    assert.match(events[0].traceparent, VALID_TRACEPARENT);
    assert.notEqual(traceIdOf(events[0].traceparent), traceIdOf(malformed));
    assert.equal(traceIdOf(events[0].traceparent), traceIdOf(final.traceContext.traceparent));
    assert.equal(events[0].tracestate, undefined);
  });

  it("carries the trace of a message automation puts on the queue, and ignores a queue message's malformed one", async () => {
    // Two pools: a pool holds one admin-created endpoint at most.
    const topology = await aTopology(call, { pools: 2 });
    const queue = env.queues.getQueueClient('endpoint-create');
    const traced = topology.address('queued-traced');
    const untraced = topology.address('queued-untraced');
    const { traceparent, traceId } = aTraceparent();

    const sent = await Promise.all([
      queue.sendMessage(
        encodeQueueMessage({ schemaVersion: 1, ...aCreateRequest({ sipAddress: traced, poolFqdn: topology.pool() }), traceparent }),
      ),
      queue.sendMessage(
        encodeQueueMessage({
          schemaVersion: 1,
          ...aCreateRequest({ sipAddress: untraced, poolFqdn: topology.pool(1) }),
          traceparent: 'not-a-trace',
        }),
      ),
    ]);

    const [tracedRequest, untracedRequest] = await Promise.all(
      sent.map(({ messageId }) =>
        eventually(async () => {
          const { body } = await call('GET', `/change-requests/${changeRequestIdForMessage('endpoint-create', messageId)}`);
          return body.status === 'applied' ? (body as Record<string, any>) : undefined;
        }),
      ),
    );
    assert.equal(traceIdOf(tracedRequest?.traceContext.traceparent), traceId);
    assert.match(untracedRequest?.traceContext.traceparent, VALID_TRACEPARENT);
    // One drain of the events queue holds both requests' events (each drain empties it).
    await eventually(async () => ((await env.dependencies.outbox.pending(1)).length === 0 ? true : undefined));
    const events = await drainQueue(env.queues, 'audit-events');
    const eventAbout = (subject: string) => events.find((event) => event.subject === subject);
    assert.equal(traceIdOf(eventAbout(traced)?.traceparent), traceId);
    assert.equal(traceIdOf(eventAbout(untraced)?.traceparent), traceIdOf(untracedRequest?.traceContext.traceparent));
  });
});
