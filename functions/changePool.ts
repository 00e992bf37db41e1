import { app } from '@azure/functions';
import { bindHttp } from '../shared/composition/functionBindings';
import { changePoolHttp } from '../shared/entrypoints/http/topologyHttp';

/** Registers or retires a Persistent Chat pool. */
export const changePool = bindHttp(changePoolHttp);

app.http('changePool', { methods: ['PUT', 'DELETE'], route: 'topology/pools/{fqdn}', authLevel: 'anonymous', handler: changePool });
