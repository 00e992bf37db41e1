import { app } from '@azure/functions';
import { bindPublicHttp } from '../shared/composition/functionBindings';
import { apiDocsAsset as asset } from '../shared/entrypoints/http/apiDocs';

/** The reference page's script and style sheets, served from this app (allow-listed names only). */
export const apiDocsAsset = bindPublicHttp(async ({ publicBaseUrl }, request) => asset(request.params.asset, publicBaseUrl));

app.http('apiDocsAsset', { methods: ['GET'], route: 'docs/{asset}', authLevel: 'anonymous', handler: apiDocsAsset });
