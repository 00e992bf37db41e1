import { app } from '@azure/functions';
import { bindHttp } from '../shared/composition/functionBindings';
import { getVerificationHttp } from '../shared/entrypoints/http/auditHttp';

/** An asynchronous audit verification's status, progress and result. */
export const getAuditVerification = bindHttp(getVerificationHttp);

app.http('getAuditVerification', {
  methods: ['GET'],
  route: 'audit/verifications/{id}',
  authLevel: 'anonymous',
  handler: getAuditVerification,
});
