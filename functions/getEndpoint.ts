import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { getEndpointHttp } from '../shared/entrypoints/directoryHttp';

/** Returns one Persistent Chat endpoint by SIP address. */
export async function getEndpoint(request: HttpRequest): Promise<HttpResponseInit> {
  return getEndpointHttp(request);
}

app.http('getEndpoint', { methods: ['GET'], route: 'endpoints/{sipAddress}', authLevel: 'anonymous', handler: getEndpoint });
