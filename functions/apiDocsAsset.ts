import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { apiDocsAsset as asset } from '../shared/entrypoints/http/apiDocs';

/** The reference page's script and style sheets, served from this app (allow-listed names only). */
export async function apiDocsAsset(request: HttpRequest): Promise<HttpResponseInit> {
  return asset(request.params.asset);
}

app.http('apiDocsAsset', { methods: ['GET'], route: 'docs/{asset}', authLevel: 'anonymous', handler: apiDocsAsset });
