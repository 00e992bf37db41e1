/**
 * `*` wildcard patterns (`sip:*@contoso.com`, `Legacy*`), matched case-insensitively in time linear
 * in the pattern and the value, with no regular expression: a backtracking regex turned a short
 * query with a dozen `*` into a minute of work on the one event loop.
 *
 * A pattern is literals separated by `*`. The first literal must be a prefix of the value, the last
 * a suffix, and the ones between must occur in order, without overlapping, in what lies between.
 * Taking each middle literal at its leftmost occurrence is optimal for `*`-only patterns: it leaves
 * the most room for the literals after it, so if any placement matches, the leftmost one does. Each
 * is found with Knuth-Morris-Pratt, whose text position never moves back, so the whole match reads
 * the value once: O(|pattern| + |value|).
 */

/** The longest pattern a filter takes, in characters. */
export const MAX_WILDCARD_PATTERN_LENGTH = 256;
/** The most `*` a pattern may hold: the matcher is linear regardless; more than this is not a real filter. */
export const MAX_WILDCARD_STARS = 16;

/** Counts the matcher's elementary steps (character comparisons and table moves), so tests can prove its cost without timing it. */
export interface StepCounter {
  steps: number;
}

/** Why a pattern is refused, or undefined when it is a valid filter. */
export function wildcardPatternProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return 'must not be empty';
  if (pattern.length > MAX_WILDCARD_PATTERN_LENGTH) return `must be at most ${MAX_WILDCARD_PATTERN_LENGTH} characters`;
  if (starsIn(pattern) > MAX_WILDCARD_STARS) return `must hold at most ${MAX_WILDCARD_STARS} * wildcards`;
  return undefined;
}

function starsIn(pattern: string): number {
  let stars = 0;
  for (const character of pattern) if (character === '*') stars++;
  return stars;
}

/** A literal with its KMP failure table: failure[i] is the length of the longest proper border of literal[0..i]. */
interface Literal {
  text: string;
  failure: number[];
}

function literalOf(text: string, counter: StepCounter): Literal {
  const failure = new Array<number>(text.length).fill(0);
  let border = 0;
  for (let i = 1; i < text.length; i++) {
    counter.steps++;
    while (border > 0 && text[i] !== text[border]) {
      counter.steps++;
      border = failure[border - 1] ?? 0;
    }
    if (text[i] === text[border]) border++;
    failure[i] = border;
  }
  return { text, failure };
}

/** Where `literal` first occurs in value[from, to), or -1; KMP, so at most 2·(to − from) steps. */
function indexOf(literal: Literal, value: string, from: number, to: number, counter: StepCounter): number {
  const { text, failure } = literal;
  let matched = 0;
  for (let i = from; i < to; i++) {
    counter.steps++;
    while (matched > 0 && value[i] !== text[matched]) {
      counter.steps++;
      matched = failure[matched - 1] ?? 0;
    }
    if (value[i] === text[matched]) matched++;
    if (matched === text.length) return i - text.length + 1;
  }
  return -1;
}

/** Whether value[at, at + text.length) equals text. */
function occursAt(text: string, value: string, at: number, counter: StepCounter): boolean {
  for (let i = 0; i < text.length; i++) {
    counter.steps++;
    if (value[at + i] !== text[i]) return false;
  }
  return true;
}

/** A compiled pattern: call it with each value to test. */
export type WildcardMatcher = (value: string | null, counter?: StepCounter) => boolean;

/**
 * Compiles a `*` pattern (compiling is O(|pattern|)) into a case-insensitive matcher that runs in
 * O(|pattern| + |value|) per value. A null value (a missing column) matches nothing.
 */
export function wildcardMatcher(pattern: string, counter: StepCounter = { steps: 0 }): WildcardMatcher {
  const parts = pattern.toLowerCase().split('*');
  const first = parts[0] ?? '';
  if (parts.length === 1) {
    return (value, steps = counter) => value !== null && value.length === first.length && occursAt(first, value.toLowerCase(), 0, steps);
  }
  const last = parts[parts.length - 1] ?? '';
  const middles = parts
    .slice(1, -1)
    .filter((part) => part.length > 0)
    .map((part) => literalOf(part, counter));

  return (value, steps = counter) => {
    if (value === null) return false;
    const text = value.toLowerCase();
    const end = text.length - last.length;
    if (end < first.length) return false;
    if (!occursAt(first, text, 0, steps) || !occursAt(last, text, end, steps)) return false;
    let position = first.length;
    for (const middle of middles) {
      const found = indexOf(middle, text, position, end, steps);
      if (found < 0) return false;
      position = found + middle.text.length;
    }
    return true;
  };
}
