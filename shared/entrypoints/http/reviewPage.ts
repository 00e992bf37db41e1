import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { HttpOutput } from './problems';
import { reviewPageHtml } from './reviewPageHtml';

/** The compiled browser script: tsc emits reviewPage.client.mts beside this file as an ES module. */
const CLIENT_SCRIPT = path.join(__dirname, 'reviewPage.client.mjs');

let clientScript: string | undefined;

/** The client module's text, ready to inline; read once, since it changes only with a build. */
function reviewPageScript(): string {
  clientScript ??= inlineable(readFileSync(CLIENT_SCRIPT, 'utf8'));
  return clientScript;
}

/** Strips the source-map comment and refuses text that would end the inline script element early. */
function inlineable(compiled: string): string {
  // Inlined, the comment would point the browser at a URL this app does not serve.
  const script = compiled.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n').trimEnd();
  if (/<\/script/i.test(script)) throw new Error(`${CLIENT_SCRIPT} contains "</script", which would end the inline element`);
  return script;
}

/** The CSP for one response: only this nonce's script and style run, and the script talks only to this origin. */
function contentSecurityPolicy(nonce: string): string {
  return `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
}

/** GET /api/review: the auditors' page, self-contained over the public API, under a fresh CSP nonce. */
export function reviewPage(): HttpOutput {
  // A nonce per response lets only this page's own script and style run, never injected markup.
  const nonce = randomBytes(16).toString('base64');
  return {
    status: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': contentSecurityPolicy(nonce),
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    },
    body: reviewPageHtml(nonce, reviewPageScript()),
  };
}
