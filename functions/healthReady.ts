import { app } from '@azure/functions';
import { bindHttp } from '../shared/composition/functionBindings';
import { readinessHttp } from '../shared/entrypoints/http/healthHttp';

/** Readiness: this instance can read its storage and reach its message transport; anonymous callers see only the status. */
export const healthReady = bindHttp(readinessHttp);

app.http('healthReady', { methods: ['GET'], route: 'health/ready', authLevel: 'anonymous', handler: healthReady });
