import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_WILDCARD_PATTERN_LENGTH,
  MAX_WILDCARD_STARS,
  wildcardMatcher,
  wildcardPatternProblem,
  type StepCounter,
} from '../../../shared/domain/wildcard';

/** The obvious definition, by dynamic programming over (pattern, value) prefixes: slow, and plainly right. */
function referenceMatch(pattern: string, value: string): boolean {
  const p = pattern.toLowerCase();
  const v = value.toLowerCase();
  // matches[j]: whether p[0..i) matches v[0..j), row by row over i.
  let matches = Array.from({ length: v.length + 1 }, (_, j) => j === 0);
  for (let i = 1; i <= p.length; i++) {
    const next = new Array<boolean>(v.length + 1).fill(false);
    for (let j = 0; j <= v.length; j++) {
      if (p[i - 1] === '*') next[j] = (matches[j] ?? false) || (j > 0 && (next[j - 1] ?? false));
      else next[j] = j > 0 && (matches[j - 1] ?? false) && p[i - 1] === v[j - 1];
    }
    matches = next;
  }
  return matches[v.length] ?? false;
}

/** A small deterministic generator (mulberry32), so the cases are the same on every run. */
function randomFrom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomText(random: () => number, alphabet: string, maxLength: number): string {
  const length = Math.floor(random() * (maxLength + 1));
  let text = '';
  for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
  return text;
}

/** How many steps a match takes, compiling included. */
function stepsOf(pattern: string, value: string): { matched: boolean; steps: number } {
  const counter: StepCounter = { steps: 0 };
  const matched = wildcardMatcher(pattern, counter)(value);
  return { matched, steps: counter.steps };
}

describe('wildcardMatcher', () => {
  const cases: Array<{ pattern: string; value: string; expected: boolean }> = [
    { pattern: 'sip:*@contoso.com', value: 'sip:chat@contoso.com', expected: true },
    { pattern: 'sip:*@contoso.com', value: 'sip:chat@fabrikam.com', expected: false },
    { pattern: 'Legacy*', value: 'legacy group chat', expected: true },
    { pattern: '*chat*', value: 'sip:OCSCHAT@x.com', expected: true },
    { pattern: 'exact', value: 'EXACT', expected: true },
    { pattern: 'exact', value: 'exactly', expected: false },
    { pattern: '*', value: '', expected: true },
    { pattern: 'a*a', value: 'a', expected: false },
    { pattern: 'ab*ba', value: 'aba', expected: false },
    { pattern: 'ab*ba', value: 'abba', expected: true },
    { pattern: '**x**', value: 'x', expected: true },
    { pattern: 'a.c', value: 'abc', expected: false },
    { pattern: '(*)', value: '(group)', expected: true },
    { pattern: '*aab*', value: 'aaab', expected: true },
  ];
  for (const { pattern, value, expected } of cases) {
    it(`${expected ? 'matches' : 'does not match'} ${JSON.stringify(value)} when the pattern is ${JSON.stringify(pattern)}`, () => {
      assert.equal(wildcardMatcher(pattern)(value), expected);
    });
  }

  it('matches nothing when the value is null (a missing column)', () => {
    assert.equal(wildcardMatcher('*')(null), false);
  });

  it('agrees with the reference definition on 20,000 generated patterns and values over a small alphabet', () => {
    const random = randomFrom(9);
    for (let i = 0; i < 20_000; i++) {
      const pattern = randomText(random, 'abA**', 8);
      const value = randomText(random, 'abBa', 12);
      assert.equal(wildcardMatcher(pattern)(value), referenceMatch(pattern, value), `pattern ${pattern}, value ${value}`);
    }
  });

  // The cost bound: compiling reads each literal with at most two steps per character, and matching
  // reads the prefix, the suffix and (KMP never moving back in the value) each value character at most
  // twice. So steps <= 2·|pattern| + 2·|value| + |pattern|; 4 leaves slack without hiding a quadratic.
  const STEP_FACTOR = 4;
  const A5000 = 'a'.repeat(5000);
  const pathological: Array<{ name: string; pattern: string; value: string }> = [
    { name: 'a dozen *a then b (the query that froze the service)', pattern: `${'*a'.repeat(12)}*b`, value: A5000 },
    { name: 'sixteen *a then b', pattern: `${'*a'.repeat(16)}*b`, value: A5000 },
    { name: 'a long middle literal that almost matches everywhere', pattern: `*${'a'.repeat(200)}b*`, value: A5000 },
    { name: 'a literal prefix and many stars', pattern: `a${'*a'.repeat(15)}*b`, value: `${A5000}c` },
    { name: 'a middle literal with a long border', pattern: `*${'ab'.repeat(100)}c*`, value: 'ab'.repeat(2500) },
    { name: 'a suffix that fails at its first character', pattern: `${'*a'.repeat(16)}b`, value: A5000 },
  ];
  for (const { name, pattern, value } of pathological) {
    it(`takes at most ${STEP_FACTOR}·(|pattern| + |value|) steps when given ${name}`, () => {
      const { matched, steps } = stepsOf(pattern, value);

      assert.equal(matched, referenceMatch(pattern, value));
      assert.ok(
        steps <= STEP_FACTOR * (pattern.length + value.length),
        `${steps} steps for |pattern| ${pattern.length}, |value| ${value.length}`,
      );
    });
  }

  it('grows linearly: ten times the value takes at most about ten times the steps', () => {
    const pattern = `${'*a'.repeat(12)}*b`;
    const small = stepsOf(pattern, 'a'.repeat(5_000)).steps;
    const large = stepsOf(pattern, 'a'.repeat(50_000)).steps;

    assert.ok(large <= 10.5 * small, `${small} steps for 5,000 characters, ${large} for 50,000`);
  });

  it('stays within the bound on 2,000 generated worst-ish cases of repeated letters', () => {
    const random = randomFrom(42);
    for (let i = 0; i < 2_000; i++) {
      const pattern = randomText(random, 'aaab*', 40) || '*';
      const value = randomText(random, 'aaab', 400);
      const { matched, steps } = stepsOf(pattern, value);
      assert.equal(matched, referenceMatch(pattern, value), `pattern ${pattern}`);
      assert.ok(steps <= STEP_FACTOR * (pattern.length + value.length), `${steps} steps for ${pattern}`);
    }
  });
});

describe('wildcardPatternProblem', () => {
  it('accepts a pattern at both limits', () => {
    const pattern = `${'*a'.repeat(MAX_WILDCARD_STARS)}`.padEnd(MAX_WILDCARD_PATTERN_LENGTH, 'b');

    assert.equal(pattern.length, MAX_WILDCARD_PATTERN_LENGTH);
    assert.equal(wildcardPatternProblem(pattern), undefined);
  });

  it('refuses a pattern one character over the length limit', () => {
    assert.equal(wildcardPatternProblem('a'.repeat(MAX_WILDCARD_PATTERN_LENGTH + 1)), 'must be at most 256 characters');
  });

  it('refuses a pattern with one * over the limit', () => {
    assert.equal(wildcardPatternProblem('*'.repeat(MAX_WILDCARD_STARS + 1)), 'must hold at most 16 * wildcards');
  });

  it('refuses an empty pattern', () => {
    assert.equal(wildcardPatternProblem(''), 'must not be empty');
  });
});
