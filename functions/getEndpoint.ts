import { app } from '@azure/functions';
import { bindHttp } from '../shared/composition/functionBindings';
import { getEndpointHttp } from '../shared/entrypoints/http/endpointsHttp';

/** Returns one Persistent Chat endpoint by SIP address or display name. */
export const getEndpoint = bindHttp(getEndpointHttp);

app.http('getEndpoint', { methods: ['GET'], route: 'endpoints/{identity}', authLevel: 'anonymous', handler: getEndpoint });
