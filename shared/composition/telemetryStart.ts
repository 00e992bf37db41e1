import { startProcessTelemetry } from './telemetry';

// Imported first by functionBindings.ts, which every function file imports before anything that
// loads an Azure SDK: telemetry (when configured) starts before the SDKs it instruments are loaded.
startProcessTelemetry();
