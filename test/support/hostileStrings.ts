import fc from 'fast-check';

/**
 * Hostile text for the hostile input suite (issue 9): the fragments a hostile caller puts into any
 * string field, and arbitraries that plant them in real values (an existing SIP address with a
 * zero-width space, a pool FQDN with a Cyrillic letter), so inputs reach real rows as well as the
 * schema's refusals. Shared by the HTTP and the queue suites.
 */

/** Lone UTF-16 surrogates: a JavaScript string may hold them, UTF-8 and URI encoding cannot. */
export const LONE_SURROGATES = ['\ud800', '\udbff', '\udc00', '\udfff', 'a\ud83d', '\ude00b'];

/** C0 and C1 controls, DEL and the Unicode line separators. */
export const CONTROL_CHARACTERS = ['\u0000', '\u0001', '\t', '\n', '\r', '\u001b', '\u007f', '\u0085', '\u2028', '\u2029'];

/** Characters that look like others: fullwidth, Cyrillic and other homoglyphs, combining marks, invisible and bidi controls. */
export const LOOK_ALIKES = [
  'ｓｉｐ：',
  '＠',
  '．',
  'ｃｏｍ',
  '\u043e', // Cyrillic o
  '\u0441', // Cyrillic s
  '\u0455', // Cyrillic dze (looks like s)
  '\u0456', // Cyrillic i
  'o\u0301', // o + combining acute
  '\u0336', // combining long stroke overlay
  '\u200b', // zero-width space
  '\u200d', // zero-width joiner
  '\u2060', // word joiner
  '\ufeff', // byte order mark
  '\u202e', // right-to-left override
  '\u2066', // left-to-right isolate
  '\u212a', // Kelvin sign (lower-cases to k)
  '\u0130', // I with dot above (lower-cases to two code units)
  'ß',
  'ﬀ',
];

/** OData filter fragments: a value pasted into a Table query unescaped would change the query. */
export const ODATA_FRAGMENTS = [
  "' or 1 eq 1",
  "PartitionKey ge ''",
  "') or (PartitionKey ne '",
  "' or RowKey gt '",
  "RowKey eq 'head'",
  "' and PartitionKey eq 'default",
  "$filter=PartitionKey ne ''",
  "''",
];

/** Traversal and separators as decoded text (the HTTP suite percent-encodes them, so each reaches the route parameter). */
export const TRAVERSAL = ['..', '../', '../../head', '..\\..\\', '/', '\\', '%2F', '%5C', '%2e%2e', '%252F', '%00', '?', '#', ';'];

/** Characters with a meaning somewhere: URI delimiters, wildcards, quotes, markup, templates. */
export const DELIMITERS = ['*', '**', '%', '%25', '%63', '@', '@@', ':', '&', '=', '+', '"', "'", '<script>', '${x}', '{{x}}', ',', '|'];

/** Writes `count` copies of `unit` (kept as one string so a report can name it by its shape). */
const repeat = (unit: string, count: number) => unit.repeat(count);

/** Over-long text: past the 256-character field limits, multibyte text past Table key limits, and (when allowed) past 64 KiB; at most `maxLength`. */
export function hugeString(maxLength: number): fc.Arbitrary<string> {
  const shapes = [repeat('a', 257), repeat('é', 300), repeat('\u{1d518}', 200), repeat('\u200b', 600), repeat('汉', 700)];
  if (maxLength >= 70_000) shapes.push(repeat('a', 66_000), repeat('é', 40_000));
  // Cut to the field's budget (a cut may split a surrogate pair: one more lone surrogate).
  return fc.constantFrom(...new Set(shapes.map((shape) => shape.slice(0, maxLength))));
}

/** One hostile fragment. */
export const fragment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...LONE_SURROGATES),
  fc.constantFrom(...CONTROL_CHARACTERS),
  fc.constantFrom(...LOOK_ALIKES),
  fc.constantFrom(...ODATA_FRAGMENTS),
  fc.constantFrom(...TRAVERSAL),
  fc.constantFrom(...DELIMITERS),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
);

/** `value` with `inserted` placed at a position chosen by `at`. */
function insertAt(value: string, inserted: string, at: number): string {
  const position = at % (value.length + 1);
  return value.slice(0, position) + inserted + value.slice(position);
}

/** A real value with a hostile fragment planted in it. */
export function mutated(real: readonly string[]): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom(...real), fragment, fc.nat()).map(([value, inserted, at]) => insertAt(value, inserted, at));
}

/**
 * A SIP address whose user part has some characters percent-escaped, in upper- or lower-case hex
 * (`sip:ocs%63hat@…` is the same address as `sip:ocschat@…` under RFC 3261).
 */
export function percentEscaped(addresses: readonly string[]): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...addresses), fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }), fc.boolean())
    .map(([address, escapeMask, upper]) => {
      const at = address.lastIndexOf('@');
      if (!address.startsWith('sip:') || at < 0) return address;
      const user = [...address.slice(4, at)]
        .map((c, i) => {
          if (!escapeMask[i % escapeMask.length]) return c;
          const hex = c.charCodeAt(0).toString(16).padStart(2, '0');
          return `%${upper ? hex.toUpperCase() : hex}`;
        })
        .join('');
      return `sip:${user}${address.slice(at)}`;
    });
}

/** Options for a hostile text field. */
export interface HostileTextOptions {
  /** Well-formed values that name real things, so some inputs hit real data. */
  real: readonly string[];
  /** The longest value to generate (headers and query strings must stay under the host's header limit). */
  maxLength: number;
  /** Whether the field is a SIP address (then percent-escaped variants are generated too). */
  sip?: boolean;
}

/**
 * Text for one string field: a real value, a real value with a hostile fragment in it, a bare
 * fragment, over-long text, random Unicode, or (SIP) a percent-escaped real address.
 */
export function hostileText({ real, maxLength, sip = false }: HostileTextOptions): fc.Arbitrary<string> {
  const choices: Array<fc.WeightedArbitrary<string>> = [
    { arbitrary: fc.constantFrom(...real), weight: 6 },
    { arbitrary: mutated(real), weight: 5 },
    { arbitrary: fragment, weight: 2 },
    { arbitrary: hugeString(maxLength), weight: 1 },
    { arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }), weight: 1 },
    { arbitrary: fc.constantFrom(...real).map((value) => value.toUpperCase()), weight: 1 },
  ];
  if (sip) choices.push({ arbitrary: percentEscaped(real), weight: 2 });
  return fc.oneof(...choices);
}

/** A JSON value of the wrong type for a string field, deep nesting included. */
export const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
  // Deeper nesting travels as text (see the HTTP bodies): building it as objects would overflow the generator's own stack.
  fc.integer({ min: 10, max: 300 }).map((depth) => nested(depth)),
);

/** An array nested `depth` levels deep. */
export function nested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

/** A wildcard pattern meant to make a backtracking matcher explode: many `*`, each before a literal the values contain. */
export function pathologicalWildcard(prefix: string, maxLength = 256): fc.Arbitrary<string> {
  return fc
    .tuple(fc.integer({ min: 8, max: 60 }), fc.constantFrom('', 'a', 'c', '.', 'p', 's'), fc.constantFrom('!', '#', 'zz', ''))
    .map(([stars, between, tail]) => `${prefix}${`*${between}`.repeat(stars)}${tail}`.slice(0, maxLength));
}
