import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FailureCode, RejectionCode, TopologyCode } from '../../../../shared/domain/codes';
import { ErrorCode } from '../../../../shared/domain/errors';
import { HOST_PROBLEM_CODES } from '../../../../shared/local/hostProblems';
import { explanationOf, PROBLEM_CATALOG } from '../../../../shared/entrypoints/http/problemCatalog';
import { escapeHtml, problemPageHtml } from '../../../../shared/entrypoints/http/problemPage';

/** Every code the service answers with: the domain's families, the catch-all 500, and the local host's own. */
const EVERY_CODE = [
  ...Object.values(ErrorCode),
  ...Object.values(RejectionCode),
  ...Object.values(FailureCode),
  ...Object.values(TopologyCode),
  'internal_error',
  ...HOST_PROBLEM_CODES,
];

describe('the problem catalog', () => {
  it('explains every code the service can answer with: a title, what it means and what to do', () => {
    const missing = EVERY_CODE.filter((code) => explanationOf(code) === undefined);
    assert.deepEqual(missing, [], `codes without an explanation in problemCatalog.ts: ${missing.join(', ')}`);
    for (const code of EVERY_CODE) {
      const entry = explanationOf(code);
      assert.ok(entry?.title && entry.meaning && entry.action, code);
    }
  });

  it('gives a code that is not a problem document (a reason only) no HTTP status, and says where it appears', () => {
    for (const [code, entry] of Object.entries(PROBLEM_CATALOG)) {
      if (entry.status === null) assert.ok(entry.appearsIn, `${code} has no status and does not say where it appears`);
      else assert.ok(entry.status >= 400 && entry.status <= 599, code);
    }
  });

  it('finds no entry for names every object has', () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) assert.equal(explanationOf(name), undefined, name);
  });
});

describe('problemPageHtml', () => {
  it('escapes what it shows, so a catalog entry or a URI cannot inject markup', () => {
    const html = problemPageHtml(
      'x',
      { title: '<img src=x onerror=alert(1)>', status: 400, meaning: '"quoted" & \'single\'', action: '</p><script>1</script>' },
      'http://localhost:7071/api/problems/x?"><script>',
      'n"once',
    );
    assert.doesNotMatch(html, /<img|<script|onerror=alert\(1\)>/);
    assert.match(html, /&#60;img src=x onerror=alert\(1\)&#62;/);
    assert.match(html, /nonce="n&#34;once"/);
    assert.equal(escapeHtml(`&<>"'`), '&#38;&#60;&#62;&#34;&#39;');
  });
});
