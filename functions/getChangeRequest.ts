import { app } from '@azure/functions';
import { bindHttp } from '../shared/composition/functionBindings';
import { getChangeRequestHttp } from '../shared/entrypoints/http/changeRequestsHttp';

/** Returns a change request and its status. */
export const getChangeRequest = bindHttp(getChangeRequestHttp);

app.http('getChangeRequest', { methods: ['GET'], route: 'change-requests/{id}', authLevel: 'anonymous', handler: getChangeRequest });
