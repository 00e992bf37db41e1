import { app, type InvocationContext, type Timer } from '@azure/functions';
import { parseRegistrationSettings } from '../shared/settings';
import { runAuditCheckpoint } from '../shared/entrypoints/timers';

/** Signs the audit log's head as a checkpoint when the log has grown (needs AUDIT_SIGNING_KEY). */
export async function checkpointAuditLog(_timer: Timer, context: InvocationContext): Promise<void> {
  const checkpoint = await runAuditCheckpoint();
  if (checkpoint) context.log('audit checkpoint signed', { sequence: checkpoint.sequence, hash: checkpoint.hash });
}

app.timer('checkpointAuditLog', { schedule: parseRegistrationSettings().checkpointSchedule, handler: checkpointAuditLog });
