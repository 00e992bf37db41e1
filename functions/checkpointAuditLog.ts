import { app } from '@azure/functions';
import { bindTimer } from '../shared/composition/functionBindings';
import { auditCheckpointTimer } from '../shared/entrypoints/timers';
import { parseRegistrationSettings } from '../shared/settings';

/** Signs the audit log's head as a checkpoint when the log has grown (needs AUDIT_SIGNING_KEY or AUDIT_SIGNING_KEY_VAULT_KEY_ID). */
export const checkpointAuditLog = bindTimer(auditCheckpointTimer);

app.timer('checkpointAuditLog', { schedule: parseRegistrationSettings().checkpointSchedule, handler: checkpointAuditLog });
