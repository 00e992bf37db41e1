import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { verifyAuditHttp } from '../shared/entrypoints/auditHttp';

/** Checks the whole audit log's integrity and says where it first breaks. */
export async function verifyAuditLog(request: HttpRequest): Promise<HttpResponseInit> {
  return verifyAuditHttp(request);
}

app.http('verifyAuditLog', { methods: ['GET'], route: 'audit/verify', authLevel: 'anonymous', handler: verifyAuditLog });
