import { app, type HttpResponseInit } from '@azure/functions';
import { openApiDocumentHttp } from '../shared/entrypoints/http/apiDocs';

/** The OpenAPI 3.1 document of this API (anonymous: it describes the contract, it holds no data). */
export async function openApiDocument(): Promise<HttpResponseInit> {
  return openApiDocumentHttp();
}

app.http('openApiDocument', { methods: ['GET'], route: 'openapi.json', authLevel: 'anonymous', handler: openApiDocument });
