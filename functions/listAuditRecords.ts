import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { listAuditHttp } from '../shared/entrypoints/auditHttp';

/** Lists audit records, newest first. */
export async function listAuditRecords(request: HttpRequest): Promise<HttpResponseInit> {
  return listAuditHttp(request);
}

app.http('listAuditRecords', { methods: ['GET'], route: 'audit', authLevel: 'anonymous', handler: listAuditRecords });
