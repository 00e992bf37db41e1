import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { CONTROL_CHARACTERS, LONE_SURROGATES, LOOK_ALIKES, percentEscaped } from './hostileStrings';

/**
 * The queue side of the hostile input suite: raw messages for the endpoint-create and
 * endpoint-delete Storage queues, as automation (or an attacker who may send to them) would put them
 * there, each with what the suite may expect of it.
 */

/** The change-request queues (their names as the local host and the other suites use them). */
export const QUEUES = ['endpoint-create', 'endpoint-delete'] as const;
export type QueueName = (typeof QUEUES)[number];

/** The names messages aim at. */
export interface QueueWorld {
  domain: string;
  /** Pools the generated creates may name. */
  pools: string[];
  /** Addresses the hostile messages aim at, and for which a valid request is sent after them. */
  victims: string[];
  users: string[];
}

/** A message to put on a queue, exactly as its text, and what it must come to. */
export interface HostileMessage {
  /** What kind of hostility it carries, for the figures. */
  kind: string;
  queue: QueueName;
  /** The message text exactly as sent (normally base64 of JSON). */
  text: string;
  /**
   * `invalid`: broken by construction (not base64, not JSON, wrong shape or operation, a field the
   * schema refuses): it must end `rejected` / `invalid_message`, audited, and on `<queue>-poison` with
   * its reason. `any`: it must end settled (applied, rejected or failed) and audited.
   */
  expect: 'invalid' | 'any';
  /** The valid UUID its body names as `changeRequestId`, if any (else the id is derived from the message id). */
  changeRequestId?: string;
}

/** A UUID made from the seed and the message's index, so a replayed run names the same requests. */
function uuidFor(seed: number, index: number): string {
  const hex = createHash('sha256').update(`hostile-queue ${seed} ${index}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A field value and whether the message schema must refuse it. */
type Field = { value: unknown; invalid: boolean };

const ok = (arbitrary: fc.Arbitrary<unknown>): fc.Arbitrary<Field> => arbitrary.map((value) => ({ value, invalid: false }));
const bad = (arbitrary: fc.Arbitrary<unknown>): fc.Arbitrary<Field> => arbitrary.map((value) => ({ value, invalid: true }));
/** Hostile, but the schema may accept it (trimmed, lower-cased, within the length limit): only "settled" is certain. */
const odd = (arbitrary: fc.Arbitrary<unknown>): fc.Arbitrary<Field> => arbitrary.map((value) => ({ value, invalid: false }));

/** Text with a hostile piece inside. */
function withInside(base: string, pieces: readonly string[]): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom(...pieces), fc.nat()).map(([piece, at]) => {
    const i = at % (base.length + 1);
    return base.slice(0, i) + piece + base.slice(i);
  });
}

/** The actor or correlation id claim: absent, plain, or lone surrogates and long multibyte text (past the Table key limit once encoded). */
function claim(plain: string, max: number): fc.Arbitrary<Field | undefined> {
  return fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 6 },
    { arbitrary: ok(fc.constant(plain)), weight: 3 },
    { arbitrary: odd(withInside(plain, LONE_SURROGATES)), weight: 2 },
    {
      arbitrary: odd(fc.constantFrom('汉'.repeat(Math.min(max, 200)), '\u{1d518}'.repeat(Math.floor(max / 2)), 'é'.repeat(max))),
      weight: 2,
    },
    { arbitrary: odd(withInside(plain, [...CONTROL_CHARACTERS, ...LOOK_ALIKES])), weight: 1 },
    { arbitrary: bad(fc.constantFrom('é'.repeat(300), 'a'.repeat(max + 1), '', 42, null, ['x'], { a: 1 })), weight: 1 },
  );
}

/** A SIP address field: a victim, or an address the schema refuses (lone surrogate, 300 multibyte characters, controls, look-alikes), or an odd one. */
function sipField(world: QueueWorld): fc.Arbitrary<Field> {
  const victim = fc.constantFrom(...world.victims);
  return fc.oneof(
    { arbitrary: ok(victim), weight: 14 },
    { arbitrary: odd(percentEscaped(world.victims)), weight: 1 },
    { arbitrary: odd(victim.map((v) => `  ${v.toUpperCase()} `)), weight: 1 },
    { arbitrary: bad(victim.chain((v) => withInside(v.slice(4), LONE_SURROGATES).map((user) => `sip:${user}`))), weight: 2 },
    { arbitrary: bad(fc.constant(`sip:${'é'.repeat(300)}@${world.domain}`)), weight: 1 },
    {
      arbitrary: bad(fc.constantFrom(`sip:${'汉'.repeat(300)}@${world.domain}`, '', 'sip:', `${world.domain}`, `sip:a＠${world.domain}`)),
      weight: 1,
    },
    // Strictly inside: at either end, a space or line break would be trimmed away and the address valid.
    {
      arbitrary: bad(
        victim.chain((v) =>
          withInside(v.slice(4, -1), ['\u0000', '\n', '\u200b', '\u202e', ' ']).map((inner) => `sip:${inner}${v.slice(-1)}`),
        ),
      ),
      weight: 1,
    },
    { arbitrary: bad(fc.constantFrom(42, null, ['sip:a@b.c'], { sip: 1 })), weight: 1 },
  );
}

/** A pool field: a real pool, or one the schema refuses. */
function poolField(world: QueueWorld): fc.Arbitrary<Field> {
  return fc.oneof(
    { arbitrary: ok(fc.constantFrom(...world.pools)), weight: 6 },
    { arbitrary: ok(fc.constant(`unknown.${world.domain}`)), weight: 1 },
    { arbitrary: bad(fc.constantFrom(`pc1.${world.domain}\ud800`, `${'é'.repeat(300)}.com`, '..', '', 'ｐｃ.com')), weight: 1 },
  );
}

/** The message's JSON object, and whether the schema must refuse it. */
function messageBody(
  world: QueueWorld,
  queue: QueueName,
  id: string | undefined,
): fc.Arbitrary<{ body: Record<string, unknown>; invalid: boolean; kind: string }> {
  const own = queue === 'endpoint-create' ? 'create' : 'delete';
  const other = own === 'create' ? 'delete' : 'create';
  return fc
    .record({
      schemaVersion: fc.oneof(
        { arbitrary: ok(fc.constant(1)), weight: 12 },
        { arbitrary: bad(fc.constantFrom(2, '1', 0, null)), weight: 1 },
      ),
      operation: fc.oneof(
        { arbitrary: ok(fc.constant(own)), weight: 10 },
        { arbitrary: bad(fc.constantFrom(other, 'update', '', 'CREATE ')), weight: 1 },
      ),
      sipAddress: sipField(world),
      poolFqdn: poolField(world),
      displayName: fc.oneof(
        { arbitrary: fc.constant(undefined), weight: 3 },
        { arbitrary: ok(fc.constant('Legacy Group Chat')), weight: 1 },
        { arbitrary: odd(withInside('Legacy Group Chat', [...LONE_SURROGATES, ...LOOK_ALIKES])), weight: 1 },
        { arbitrary: bad(fc.constantFrom('a'.repeat(257), 'x\u0000y', '')), weight: 1 },
      ),
      actor: claim('provisioning-bot', 256),
      correlationId: claim('ticket-4711', 128),
      extra: fc.oneof({ arbitrary: fc.constant(undefined), weight: 15 }, { arbitrary: bad(fc.constant('x')), weight: 1 }),
    })
    .map((fields) => {
      const body: Record<string, unknown> = {};
      let invalid = false;
      const kinds: string[] = [];
      for (const [name, field] of Object.entries(fields)) {
        if (field === undefined) continue;
        // A delete carries no pool: one there is an unknown field.
        if (name === 'poolFqdn' && fields.operation.value === 'delete') continue;
        body[name] = field.value;
        if (field.invalid) {
          invalid = true;
          kinds.push(name);
        }
      }
      if (id !== undefined) body.changeRequestId = id;
      return { body, invalid, kind: invalid ? `invalid ${kinds.join('+')}` : 'valid shape' };
    });
}

/** Base64, as the Functions queue trigger expects (host.json messageEncoding). */
const base64 = (bytes: Buffer | string) => (typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes).toString('base64');

/** Text that is not base64 (all of it valid XML, so the Storage service accepts it). */
const NOT_BASE64 = ['not base64!', '{"schemaVersion":1,"operation":"create"}', '%%%%', 'YWJj=ZGVm', 'abc', '日本語', ' '];

/**
 * The n-th message of a run (`seed` makes the optional changeRequestId reproducible): mostly base64
 * JSON change requests with hostile fields; then not base64, base64 of text that is not JSON or not
 * UTF-8, JSON of the wrong shape, and bodies near the 64 KiB message limit.
 */
export function hostileMessageArb(world: QueueWorld, seed: number, index: number): fc.Arbitrary<HostileMessage> {
  return fc.tuple(fc.constantFrom(...QUEUES), fc.boolean()).chain(([queue, namesId]) => {
    const id = namesId ? uuidFor(seed, index) : undefined;
    const message = (kind: string, text: string, expect: HostileMessage['expect'], withId = false): HostileMessage => ({
      kind,
      queue,
      text,
      expect,
      ...(withId && id ? { changeRequestId: id } : {}),
    });
    return fc.oneof(
      {
        arbitrary: messageBody(world, queue, id).map(({ body, invalid, kind }) =>
          message(kind, base64(JSON.stringify(body)), invalid ? 'invalid' : 'any', true),
        ),
        weight: 20,
      },
      { arbitrary: fc.constantFrom(...NOT_BASE64).map((text) => message('not base64', text, 'invalid')), weight: 2 },
      {
        arbitrary: fc
          .constantFrom('hello', 'undefined', '{"a":', '\ud800')
          .map((text) => message('base64 of non-JSON', base64(text), 'invalid')),
        weight: 1,
      },
      {
        arbitrary: fc
          .constantFrom(Buffer.from([0xff, 0xfe, 0x7b, 0x7d]), Buffer.from([0xc0, 0xaf]), Buffer.from('{"schemaVersion":1}', 'utf16le'))
          .map((bytes) => message('base64 of non-UTF-8 bytes', base64(bytes), 'invalid')),
        weight: 1,
      },
      {
        arbitrary: fc
          .constantFrom('[]', 'null', '"x"', '42', '{}', 'true')
          .map((json) => message('JSON of the wrong shape', base64(json), 'invalid')),
        weight: 1,
      },
      {
        arbitrary: fc
          .constantFrom(40_000, 47_000)
          .chain((size) =>
            messageBody(world, queue, id).map(({ body }) =>
              message('near 64 KiB', base64(JSON.stringify({ ...body, displayName: 'a'.repeat(size) })), 'invalid', true),
            ),
          ),
        weight: 1,
      },
    );
  });
}
