import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ErrorCode, NotFoundError } from '../../domain/errors';
import { explanationOf, type ProblemExplanation } from './problemCatalog';
import { json, parseInput, type HttpInput } from './httpInput';
import { problemForError, problemTypeUri, type HttpOutput } from './problems';

/** What the problem pages need: where they are published (for the `type` of their own 404). */
export interface ProblemPageDependencies {
  publicBaseUrl?: string;
}

/** A code as the service spells them: lower case, digits and underscores; anything else names no entry. */
export const ProblemParamsSchema = z.object({
  code: z
    .string()
    .max(64, 'must be at most 64 characters')
    .regex(/^[a-z0-9_]+$/, 'must be a problem code: lower-case letters, digits and _'),
});

/** The five characters that can change the meaning of HTML text or an attribute value, escaped. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** Only the nonce's style applies; no script, no form, no frame, nothing fetched. */
function contentSecurityPolicy(nonce: string): string {
  return `default-src 'none'; style-src 'nonce-${nonce}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
}

/** Whether the caller asked for JSON rather than a page (Accept names application/json and not text/html). */
function wantsJson(request: HttpInput): boolean {
  const types = (request.headers.get('accept') ?? '').split(',').map((part) => part.split(';')[0]?.trim().toLowerCase());
  return types.includes('application/json') && !types.includes('text/html');
}

/** The page for one code: everything from the catalog or the request is escaped. */
export function problemPageHtml(code: string, entry: ProblemExplanation, typeUri: string, nonce: string): string {
  const status = entry.status === null ? 'none: this code names an outcome, not an HTTP answer' : String(entry.status);
  const rows: Array<[string, string]> = [
    ['Code', code],
    ['HTTP status', status],
    ...(entry.appearsIn ? ([['Appears in', entry.appearsIn]] as Array<[string, string]>) : []),
    ['Type URI', typeUri],
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(entry.title)} (${escapeHtml(code)})</title>
<style nonce="${escapeHtml(nonce)}">body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5}dt{font-weight:600}code{font-family:ui-monospace,monospace}</style>
</head>
<body>
<main>
<h1>${escapeHtml(entry.title)}</h1>
<dl>
${rows.map(([name, value]) => `<dt>${escapeHtml(name)}</dt><dd><code>${escapeHtml(value)}</code></dd>`).join('\n')}
</dl>
<h2>What it means</h2>
<p id="meaning">${escapeHtml(entry.meaning)}</p>
<h2>What to do</h2>
<p id="action">${escapeHtml(entry.action)}</p>
</main>
</body>
</html>
`;
}

/**
 * GET /api/problems/{code}: anonymous; the page explaining a code (title, HTTP status, what it
 * means, what to do), or with Accept: application/json the same explanation as JSON; 404
 * problem_type_not_found for a code the service never answers with.
 */
export async function problemPageHttp(deps: ProblemPageDependencies, request: HttpInput): Promise<HttpOutput> {
  try {
    const { code } = parseInput(ProblemParamsSchema, request.params, 'path');
    const entry = explanationOf(code);
    if (!entry) throw new NotFoundError(ErrorCode.problemTypeNotFound, `the service never answers with the code ${code}`);
    const typeUri = problemTypeUri(code, deps.publicBaseUrl);
    // Explanations change only with a release: caches may keep them for an hour.
    const caching = { 'cache-control': 'public, max-age=3600', vary: 'accept' };
    if (wantsJson(request)) return json(200, { type: typeUri, code, ...entry }, caching);
    const nonce = randomBytes(16).toString('base64');
    return {
      status: 200,
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': contentSecurityPolicy(nonce),
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        ...caching,
      },
      body: problemPageHtml(code, entry, typeUri, nonce),
    };
  } catch (error) {
    return problemForError(error, deps.publicBaseUrl);
  }
}
