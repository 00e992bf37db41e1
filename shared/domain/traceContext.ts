/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` and `tracestate` a
 * change request carries from its HTTP submission through its queue message to the CloudEvent its
 * apply emits, so one trace spans submit, apply and event. Only the format is checked here; making
 * new contexts and reading the active span is the Tracing port's job.
 */

/** A request's place in a distributed trace: a valid `traceparent`, and its `tracestate` when it had a valid one. */
export interface TraceContext {
  traceparent: string;
  tracestate?: string;
}

/**
 * A version-00 `traceparent`: lowercase hex trace id (16 bytes, not all zeros), parent id (8
 * bytes, not all zeros) and flags. A future version is not accepted: we cannot know its layout.
 */
export const TRACEPARENT_PATTERN = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/** A `tracestate` list member: a simple or multi-tenant key, `=`, a value of printable ASCII but `,` and `=`. */
const TRACESTATE_MEMBER =
  /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/** At most this many list members (the specification's limit). */
const TRACESTATE_MAX_MEMBERS = 32;
/** Longer `tracestate` values may be dropped (vendors must pass on at least 512 characters). */
const TRACESTATE_MAX_LENGTH = 512;

/** Whether `value` is a `traceparent` we propagate. */
export function isTraceparent(value: unknown): value is string {
  return typeof value === 'string' && TRACEPARENT_PATTERN.test(value);
}

/** Whether `value` is a well-formed `tracestate` (empty members, as between two commas, are allowed). */
export function isTracestate(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > TRACESTATE_MAX_LENGTH) return false;
  const members = value
    .split(',')
    .map((member) => member.trim())
    .filter((member) => member !== '');
  return members.length > 0 && members.length <= TRACESTATE_MAX_MEMBERS && members.every((member) => TRACESTATE_MEMBER.test(member));
}

/**
 * The trace context named by a `traceparent` and `tracestate` from outside (headers, a message's
 * fields): undefined when the traceparent is missing or malformed, which is not an error, the
 * caller just gets a new trace; a malformed tracestate alone is dropped, as the specification says.
 */
export function traceContextOf(traceparent: unknown, tracestate?: unknown): TraceContext | undefined {
  if (typeof traceparent !== 'string') return undefined;
  const parent = traceparent.trim();
  if (!isTraceparent(parent)) return undefined;
  const state = typeof tracestate === 'string' ? tracestate.trim() : undefined;
  return isTracestate(state) ? { traceparent: parent, tracestate: state } : { traceparent: parent };
}

/** The trace id (32 hex digits) of a valid traceparent. */
export function traceIdOf(context: TraceContext): string {
  return context.traceparent.slice(3, 35);
}
