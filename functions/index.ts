import { app } from '@azure/functions';
import { stopProcessTelemetry } from '../shared/composition/telemetry';

// App-wide options, before any function runs. Responses stream (audit exports can outgrow memory);
// needs Functions host 4.28 or later.
app.setup({ enableHttpStream: true });

// Telemetry (started by the first function file's import, when APPLICATIONINSIGHTS_CONNECTION_STRING
// is set) sends what it still holds before the worker stops.
app.hook.appTerminate(() => stopProcessTelemetry());
