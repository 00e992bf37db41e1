import { app } from '@azure/functions';
import { bindHttp } from '../shared/composition/functionBindings';
import { listAuditHttp } from '../shared/entrypoints/http/auditHttp';

/** Lists audit records, newest first, or exports them (format=ndjson|csv, streamed). */
export const listAuditRecords = bindHttp(listAuditHttp);

app.http('listAuditRecords', { methods: ['GET'], route: 'audit', authLevel: 'anonymous', handler: listAuditRecords });
