import { app } from '@azure/functions';
import { bindTimer } from '../shared/composition/functionBindings';
import { auditVerificationTimer } from '../shared/entrypoints/timers';
import { parseRegistrationSettings } from '../shared/settings';

/** Advances running audit verifications (POST /api/audit/verifications) slice by slice, on whichever instance fires. */
export const advanceAuditVerifications = bindTimer((deps) => auditVerificationTimer(deps));

app.timer('advanceAuditVerifications', { schedule: parseRegistrationSettings().verificationSchedule, handler: advanceAuditVerifications });
