import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { getChangeRequestHttp } from '../shared/entrypoints/changeRequestsHttp';

/** Returns a change request and its status. */
export async function getChangeRequest(request: HttpRequest): Promise<HttpResponseInit> {
  return getChangeRequestHttp(request);
}

app.http('getChangeRequest', { methods: ['GET'], route: 'change-requests/{id}', authLevel: 'anonymous', handler: getChangeRequest });
