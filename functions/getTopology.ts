import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { getTopologyHttp } from '../shared/entrypoints/directoryHttp';

/** Returns the SIP domains, pools and directory users the service knows. */
export async function getTopology(request: HttpRequest): Promise<HttpResponseInit> {
  return getTopologyHttp(request);
}

app.http('getTopology', { methods: ['GET'], route: 'topology', authLevel: 'anonymous', handler: getTopology });
