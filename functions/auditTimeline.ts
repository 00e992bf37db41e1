import { app } from '@azure/functions';
import { bindHttp } from '../shared/composition/functionBindings';
import { auditTimelineHttp } from '../shared/entrypoints/http/auditHttp';

/** Counts applied, rejected and failed audit records per day of the reader's time zone, for the review page's timeline. */
export const auditTimeline = bindHttp(auditTimelineHttp);

app.http('auditTimeline', { methods: ['GET'], route: 'audit/timeline', authLevel: 'anonymous', handler: auditTimeline });
