import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The host.json settings the local host honours, with the Functions host's defaults. */
export interface HostSettings {
  routePrefix: string;
  queues: {
    batchSize: number;
    newBatchThreshold: number;
    maxDequeueCount: number;
    /** Milliseconds a failed message stays invisible before its retry. */
    visibilityTimeoutMs: number;
    maxPollingIntervalMs: number;
    messageEncoding: 'base64' | 'none';
  };
}

/** Parses a host.json TimeSpan ("hh:mm:ss" or "hh:mm:ss.fff") into milliseconds. */
export function timeSpanMs(value: string | undefined, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  const match = /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(value);
  if (!match) throw new Error(`host.json: "${value}" is not a TimeSpan (hh:mm:ss)`);
  const [, hours, minutes, seconds] = match;
  return Math.round((Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds)) * 1000);
}

/** Reads host.json from the app root, so local semantics are configured where Azure's are. */
export function readHostSettings(appRoot: string): HostSettings {
  const host = JSON.parse(readFileSync(path.join(appRoot, 'host.json'), 'utf8')) as {
    extensions?: { http?: { routePrefix?: string }; queues?: Record<string, string | number | undefined> };
  };
  const queues = host.extensions?.queues ?? {};
  const batchSize = Number(queues['batchSize'] ?? 16);
  return {
    routePrefix: host.extensions?.http?.routePrefix ?? 'api',
    queues: {
      batchSize,
      newBatchThreshold: Number(queues['newBatchThreshold'] ?? Math.floor(batchSize / 2)),
      maxDequeueCount: Number(queues['maxDequeueCount'] ?? 5),
      visibilityTimeoutMs: timeSpanMs(queues['visibilityTimeout'] as string | undefined, 0),
      maxPollingIntervalMs: timeSpanMs(queues['maxPollingInterval'] as string | undefined, 60_000),
      messageEncoding: queues['messageEncoding'] === 'none' ? 'none' : 'base64',
    },
  };
}
