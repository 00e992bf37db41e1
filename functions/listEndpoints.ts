import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { listEndpointsHttp } from '../shared/entrypoints/directoryHttp';

/** Lists Persistent Chat endpoints, filtered and paged. */
export async function listEndpoints(request: HttpRequest): Promise<HttpResponseInit> {
  return listEndpointsHttp(request);
}

app.http('listEndpoints', { methods: ['GET'], route: 'endpoints', authLevel: 'anonymous', handler: listEndpoints });
