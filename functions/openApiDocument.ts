import { app } from '@azure/functions';
import { bindPublicHttp } from '../shared/composition/functionBindings';
import { openApiDocumentHttp } from '../shared/entrypoints/http/apiDocs';

/** The OpenAPI 3.1 document of this API (anonymous: it describes the contract, it holds no data). */
export const openApiDocument = bindPublicHttp(async ({ publicBaseUrl }) => openApiDocumentHttp(publicBaseUrl));

app.http('openApiDocument', { methods: ['GET'], route: 'openapi.json', authLevel: 'anonymous', handler: openApiDocument });
