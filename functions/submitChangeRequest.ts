import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { submitChangeRequestHttp } from '../shared/entrypoints/changeRequestsHttp';

/** Submits a create or delete change request (or predicts it with ?dryRun=true). */
export async function submitChangeRequest(request: HttpRequest): Promise<HttpResponseInit> {
  return submitChangeRequestHttp(request);
}

app.http('submitChangeRequest', { methods: ['POST'], route: 'change-requests', authLevel: 'anonymous', handler: submitChangeRequest });
