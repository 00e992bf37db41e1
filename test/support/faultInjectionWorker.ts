/**
 * The local host's worker (queue and timer triggers, no HTTP) as its own process, with a kill
 * switch: it SIGKILLs itself the FAULT_AT-th time it reaches FAULT_STEP. Test tooling only: the
 * fault-injection suite spawns it with PCHAT_FAULT_WORKER=1 and shows its log when a check fails (node --test also loads every file under
 * dist/test/, so without that variable this file does nothing).
 *
 *   before-commit   a decision is about to commit (nothing of it is written)
 *   after-commit    the commit is written, its events not yet published
 *   after-publish   an event is published, not yet dropped from the outbox, the message not yet deleted
 *   none            no fault: the worker runs until SIGTERM
 */
import path from 'node:path';
import { Destination } from '../../shared/application/ports/messageBus';
import { silentLogger, type Composition } from '../../shared/composition/compose';
import { startLocalHost } from '../../shared/local/startLocalHost';

// Not imported from ./localHost: that module loads Azurite's servers, seconds of start-up per run.
const APP_ROOT = path.resolve(__dirname, '..', '..', '..');

export const FaultStep = {
  beforeCommit: 'before-commit',
  afterCommit: 'after-commit',
  afterPublish: 'after-publish',
  none: 'none',
} as const;
export type FaultStep = (typeof FaultStep)[keyof typeof FaultStep];

/** Wraps the composed directory and bus so that the `at`-th arrival at `step` kills this process. */
function withKillSwitch(composition: Composition, step: FaultStep, at: number): Composition {
  let arrivals = 0;
  const arrive = (reached: FaultStep) => {
    if (reached === step && ++arrivals === at) process.kill(process.pid, 'SIGKILL');
  };
  const { directory, bus } = composition;
  return {
    ...composition,
    directory: {
      snapshot: (reads, freshness) => directory.snapshot(reads, freshness),
      fits: (change) => directory.fits(change),
      commit: async (change) => {
        arrive(FaultStep.beforeCommit);
        await directory.commit(change);
        arrive(FaultStep.afterCommit);
      },
    },
    bus: {
      send: async (destination, message) => {
        await bus.send(destination, message);
        if (destination === Destination.auditEvents) arrive(FaultStep.afterPublish);
      },
      deadLetter: (source, letter) => bus.deadLetter(source, letter),
      checkReachable: (signal) => bus.checkReachable(signal),
    },
  };
}

async function main(): Promise<void> {
  const step = (process.env.FAULT_STEP ?? FaultStep.none) as FaultStep;
  const at = Number(process.env.FAULT_AT ?? 1);
  const host = await startLocalHost({
    appRoot: APP_ROOT,
    port: 0,
    roles: { http: false, queues: true, timers: true },
    loadDemoTopology: false,
    log: (line) => process.stdout.write(`${line}\n`),
    adapt: (composition) => withKillSwitch({ ...composition, log: silentLogger }, step, at),
  });
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => void host.stop().then(() => process.exit(0)));
}

if (process.env.PCHAT_FAULT_WORKER === '1') {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
