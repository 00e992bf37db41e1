import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { reviewPage } from '../../../../shared/entrypoints/http/reviewPage';

/** The compiled client module as tsc wrote it beside the handler (dist/shared/entrypoints/http). */
const COMPILED = readFileSync(
  path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'entrypoints', 'http', 'reviewPage.client.mjs'),
  'utf8',
);

/** The page's body and CSP, which the review page always serves as text. */
function served(): { body: string; csp: string } {
  const output = reviewPage();
  assert.equal(output.status, 200);
  assert.equal(typeof output.body, 'string');
  return { body: output.body as string, csp: output.headers?.['content-security-policy'] ?? '' };
}

/** The CSP's directives by name. */
function directives(csp: string): Map<string, string> {
  return new Map(
    csp
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .map(([name, ...values]) => [name ?? '', values.join(' ')]),
  );
}

describe('the review page', () => {
  it('inlines the compiled client script under the nonce its CSP allows, and allows nothing else', () => {
    const { body, csp } = served();
    const policy = directives(csp);
    const nonce = /^'nonce-([A-Za-z0-9+/=]+)'$/.exec(policy.get('script-src') ?? '')?.[1];
    assert.ok(nonce, `script-src allows one nonce: ${csp}`);
    assert.equal(policy.get('style-src'), `'nonce-${nonce}'`);
    assert.equal(policy.get('default-src'), `'none'`);

    const script = /<script type="module" nonce="([^"]+)">\n([\s\S]*?)\n<\/script>/.exec(body);
    assert.ok(script, 'the page has an inline module script');
    assert.equal(script[1], nonce);
    assert.ok(script[2]?.includes('function followCorrelation(id)'), 'the script is the compiled client');
    assert.ok(!script[2]?.includes('sourceMappingURL'), 'no source-map comment points at a URL the app does not serve');
    assert.equal(script[2], COMPILED.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '').trimEnd());
    assert.deepEqual(
      [...body.matchAll(/<(script|style)\b[^>]*>/g)].map(([tag]) => tag),
      [`<style nonce="${nonce}">`, `<script type="module" nonce="${nonce}">`],
    );
  });

  it('draws a fresh nonce for every response', () => {
    assert.notEqual(served().csp, served().csp);
  });
});
