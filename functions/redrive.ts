import { app, type InvocationContext, type Timer } from '@azure/functions';
import { parseRegistrationSettings } from '../shared/settings';
import { runRedrive } from '../shared/entrypoints/timers';

/** Publishes outbox events left behind and re-sends (or fails) accepted change requests whose message was lost. */
export async function redrive(_timer: Timer, context: InvocationContext): Promise<void> {
  const report = await runRedrive();
  if (report.eventsPublished + report.requestsResent + report.requestsFailed + report.idempotencyKeysPurged > 0) context.log('re-drive', report);
}

app.timer('redrive', { schedule: parseRegistrationSettings().redriveSchedule, handler: redrive });
