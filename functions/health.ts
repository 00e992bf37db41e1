import { app } from '@azure/functions';
import { correlated } from '../shared/entrypoints/http/correlation';
import { healthHttp } from '../shared/entrypoints/http/healthHttp';

/** Liveness: the process answers; anonymous, no detail, no dependencies (X-Correlation-Id echoed, as on every answer). */
export const health = correlated(() => Promise.resolve(healthHttp()));

app.http('health', { methods: ['GET'], route: 'health', authLevel: 'anonymous', handler: health });
