import { app } from '@azure/functions';
import { healthHttp } from '../shared/entrypoints/http/healthHttp';

/** Liveness: the process answers; anonymous, no detail, no dependencies. */
export const health = () => Promise.resolve(healthHttp());

app.http('health', { methods: ['GET'], route: 'health', authLevel: 'anonymous', handler: health });
