import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode } from '../../domain/errors';
import { openApiDocument } from './openApi';
import { problem, type HttpOutput } from './problems';

/**
 * GET /api/openapi.json, GET /api/docs and GET /api/docs/{asset}: the OpenAPI document and the
 * reference page that renders it with Swagger UI (swagger-ui-dist). Everything the page loads comes
 * from this app (no CDN: many deployments have no internet), under a CSP that lets only this
 * origin's scripts and styles run.
 */

/** The document per server URL, generated once per process (it changes only with a build). */
const documents = new Map<string, string>();

/**
 * GET /api/openapi.json. Its server is the API on the configured public base URL (PUBLIC_BASE_URL,
 * WEBSITE_HOSTNAME in Azure), never the caller's Host header; relative (`/api`) when none is known.
 */
export function openApiDocumentHttp(publicBaseUrl = ''): HttpOutput {
  const serverUrl = `${publicBaseUrl}/api`;
  let document = documents.get(serverUrl);
  if (document === undefined) {
    document = JSON.stringify(openApiDocument(serverUrl));
    documents.set(serverUrl, document);
  }
  return {
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' },
    body: document,
  };
}

/** Swagger UI's start-up: a file of its own rather than an inline script, so the CSP needs no nonce or hash. */
const INIT_SCRIPT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/api/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    // The public validator badge would send the document to validator.swagger.io.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
`;

/** The directory of swagger-ui-dist's static files (its package.json names no main we need). */
function swaggerUiDirectory(): string {
  return path.dirname(require.resolve('swagger-ui-dist/package.json'));
}

/** The assets the page may load, by name: an allow-list, so {asset} can never name another file. */
const ASSETS: Record<string, { mediaType: string; read: () => string }> = {
  'swagger-ui.css': { mediaType: 'text/css; charset=utf-8', read: () => readAsset('swagger-ui.css') },
  'swagger-ui-bundle.js': { mediaType: 'text/javascript; charset=utf-8', read: () => readAsset('swagger-ui-bundle.js') },
  'docs.js': { mediaType: 'text/javascript; charset=utf-8', read: () => INIT_SCRIPT },
};

/** A file of swagger-ui-dist, without its source-map comment (the map is not served). */
function readAsset(name: string): string {
  return readFileSync(path.join(swaggerUiDirectory(), name), 'utf8').replace(/\n\/[/*][#@] sourceMappingURL=\S+(?: \*\/)?\s*$/, '\n');
}

const assetCache = new Map<string, string>();

/**
 * Only this origin's scripts, styles, images and fonts; data: images (Swagger UI's icons); fetches
 * to this origin only (the document, and "Try it out" against /api). No inline script or style.
 */
export const DOCS_CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API reference · Persistent Chat endpoints</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/docs.js"></script>
</body>
</html>
`;

const PAGE_HEADERS = {
  'content-security-policy': DOCS_CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * GET /api/docs: the reference page. Its URLs are root-relative (host.json's routePrefix is api), so
 * /api/docs/ (the host takes a trailing slash) loads the same files as /api/docs.
 */
export function apiDocsPage(): HttpOutput {
  return { status: 200, headers: { ...PAGE_HEADERS, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' }, body: PAGE };
}

/** GET /api/docs/{asset}: one allow-listed asset, 404 for any other name. */
export function apiDocsAsset(name: string | undefined, publicBaseUrl?: string): HttpOutput {
  const asset = name === undefined ? undefined : Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (!name || !asset) return problem(404, ErrorCode.assetNotFound, 'the reference page has no such asset', undefined, publicBaseUrl);
  let body = assetCache.get(name);
  if (body === undefined) {
    body = asset.read();
    assetCache.set(name, body);
  }
  // An hour: the files change only with a deployment, and the page asks for them by fixed names.
  return { status: 200, headers: { ...PAGE_HEADERS, 'content-type': asset.mediaType, 'cache-control': 'public, max-age=3600' }, body };
}
