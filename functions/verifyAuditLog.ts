import { app } from '@azure/functions';
import { bindHttp } from '../shared/composition/functionBindings';
import { verifyAuditHttp } from '../shared/entrypoints/http/auditHttp';

/** Checks the whole audit log's integrity and says where it first breaks. */
export const verifyAuditLog = bindHttp(verifyAuditHttp);

app.http('verifyAuditLog', { methods: ['GET'], route: 'audit/verify', authLevel: 'anonymous', handler: verifyAuditLog });
