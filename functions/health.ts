import { app } from '@azure/functions';
import { bindHttp } from '../shared/composition/functionBindings';
import { healthHttp } from '../shared/entrypoints/http/healthHttp';

/** Says whether this instance is up and can read its storage; anonymous. */
export const health = bindHttp(healthHttp);

app.http('health', { methods: ['GET'], route: 'health', authLevel: 'anonymous', handler: health });
