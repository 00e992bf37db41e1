import { app } from '@azure/functions';

// App-wide options, before any function runs. Responses stream (audit exports can outgrow memory);
// needs Functions host 4.28 or later.
app.setup({ enableHttpStream: true });
