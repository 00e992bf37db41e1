import { app } from '@azure/functions';
import { bindHttp } from '../shared/composition/functionBindings';
import { startVerificationHttp } from '../shared/entrypoints/http/auditHttp';

/** Starts an asynchronous audit verification: 202 + Location, its first slices run in the background. */
export const startAuditVerification = bindHttp(startVerificationHttp);

app.http('startAuditVerification', {
  methods: ['POST'],
  route: 'audit/verifications',
  authLevel: 'anonymous',
  handler: startAuditVerification,
});
