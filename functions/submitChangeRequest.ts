import { app } from '@azure/functions';
import { bindHttp } from '../shared/composition/functionBindings';
import { submitChangeRequestHttp } from '../shared/entrypoints/http/changeRequestsHttp';

/** Submits a create or delete change request (or predicts it with ?dryRun=true). */
export const submitChangeRequest = bindHttp(submitChangeRequestHttp);

app.http('submitChangeRequest', { methods: ['POST'], route: 'change-requests', authLevel: 'anonymous', handler: submitChangeRequest });
