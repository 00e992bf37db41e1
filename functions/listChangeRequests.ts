import { app } from '@azure/functions';
import { bindHttp } from '../shared/composition/functionBindings';
import { listChangeRequestsHttp } from '../shared/entrypoints/http/changeRequestsHttp';

/** Lists change requests newest first, filtered and paged; a submitter sees its own. */
export const listChangeRequests = bindHttp(listChangeRequestsHttp);

app.http('listChangeRequests', { methods: ['GET'], route: 'change-requests', authLevel: 'anonymous', handler: listChangeRequests });
