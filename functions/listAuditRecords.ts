import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { listAuditHttp } from '../shared/entrypoints/auditHttp';

/** Lists audit records, newest first. */
export async function listAuditRecords(request: HttpRequest): Promise<HttpResponseInit> {
  return listAuditHttp(request);
}

// Responses stream (audit exports can outgrow memory); needs Functions host 4.28 or later.
app.setup({ enableHttpStream: true });

app.http('listAuditRecords', { methods: ['GET'], route: 'audit', authLevel: 'anonymous', handler: listAuditRecords });
