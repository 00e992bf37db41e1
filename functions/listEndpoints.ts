import { app } from '@azure/functions';
import { bindHttp } from '../shared/composition/functionBindings';
import { listEndpointsHttp } from '../shared/entrypoints/http/endpointsHttp';

/** Lists Persistent Chat endpoints, filtered and paged. */
export const listEndpoints = bindHttp(listEndpointsHttp);

app.http('listEndpoints', { methods: ['GET'], route: 'endpoints', authLevel: 'anonymous', handler: listEndpoints });
