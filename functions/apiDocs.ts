import { app } from '@azure/functions';
import { bindPublicHttp } from '../shared/composition/functionBindings';
import { apiDocsPage } from '../shared/entrypoints/http/apiDocs';

/** The API reference page: Swagger UI rendering /api/openapi.json (anonymous, like the document). */
export const apiDocs = bindPublicHttp(async () => apiDocsPage());

app.http('apiDocs', { methods: ['GET'], route: 'docs', authLevel: 'anonymous', handler: apiDocs });
