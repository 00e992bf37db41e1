import { app } from '@azure/functions';
import { bindHttp } from '../shared/composition/functionBindings';
import { cancelChangeRequestHttp } from '../shared/entrypoints/http/changeRequestsHttp';

/** Cancels a change request that is still accepted. */
export const cancelChangeRequest = bindHttp(cancelChangeRequestHttp);

app.http('cancelChangeRequest', {
  methods: ['POST'],
  route: 'change-requests/{id}/cancel',
  authLevel: 'anonymous',
  handler: cancelChangeRequest,
});
