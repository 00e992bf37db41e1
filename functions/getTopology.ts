import { app } from '@azure/functions';
import { bindHttp } from '../shared/composition/functionBindings';
import { getTopologyHttp } from '../shared/entrypoints/http/topologyHttp';

/** Returns the SIP domains, pools and directory users the service knows. */
export const getTopology = bindHttp(getTopologyHttp);

app.http('getTopology', { methods: ['GET'], route: 'topology', authLevel: 'anonymous', handler: getTopology });
