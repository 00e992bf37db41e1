import { app, type HttpResponseInit } from '@azure/functions';
import { apiDocsPage } from '../shared/entrypoints/http/apiDocs';

/** The API reference page: Swagger UI rendering /api/openapi.json (anonymous, like the document). */
export async function apiDocs(): Promise<HttpResponseInit> {
  return apiDocsPage();
}

app.http('apiDocs', { methods: ['GET'], route: 'docs', authLevel: 'anonymous', handler: apiDocs });
