import { app } from '@azure/functions';
import { bindTimer } from '../shared/composition/functionBindings';
import { redriveTimer } from '../shared/entrypoints/timers';
import { parseRegistrationSettings } from '../shared/settings';

/** Publishes outbox events left behind and re-sends (or fails) accepted change requests whose message was lost. */
export const redrive = bindTimer(redriveTimer);

app.timer('redrive', { schedule: parseRegistrationSettings().redriveSchedule, handler: redrive });
