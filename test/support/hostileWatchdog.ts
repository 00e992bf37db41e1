import { Worker } from 'node:worker_threads';

/**
 * A watchdog for the hostile suites. Azurite, the local host and the suite share one event loop in
 * the test process, so an input that blocks the loop (a backtracking wildcard match, say) also
 * stops every socket timeout and test timeout in it: the run would hang silently. The watchdog runs
 * on a worker thread with its own loop, sees the main loop's heartbeat stop, prints the input in
 * flight (seed, route group, replay path, the input) to stderr, and ends the process, which the
 * test runner reports as a failed file.
 */

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const beats = new Int32Array(workerData.heartbeat);
let current = 'no input in flight';
let last = Atomics.load(beats, 0);
let stalledSince = Date.now();
parentPort.on('message', (text) => { current = text; });
setInterval(() => {
  const now = Atomics.load(beats, 0);
  if (now !== last) { last = now; stalledSince = Date.now(); return; }
  if (Date.now() - stalledSince < workerData.limitMs) return;
  writeSync(2, '\\nHOSTILE WATCHDOG: the event loop has been blocked for ' + (Date.now() - stalledSince) + ' ms (never a hang) while serving:\\n' + current + '\\n');
  process.kill(process.pid, 'SIGKILL');
}, 250);
`;

/** A running watchdog: say which input is in flight; stop it at the end. */
export interface Watchdog {
  inFlight(description: string): void;
  stop(): Promise<void>;
}

/** Starts a watchdog that ends the process when the main event loop is blocked for `limitMs`. */
export function startWatchdog(limitMs = 30_000): Watchdog {
  const heartbeat = new SharedArrayBuffer(4);
  const beats = new Int32Array(heartbeat);
  const timer = setInterval(() => Atomics.add(beats, 0, 1), 100);
  timer.unref();
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { heartbeat, limitMs } });
  worker.unref();
  return {
    inFlight: (description) => worker.postMessage(description),
    stop: async () => {
      clearInterval(timer);
      await worker.terminate();
    },
  };
}
