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
import { Destination } from '../../shared/application/ports';
import { parseSettings } from '../../shared/settings';
import { buildContainer, provideContainer, type Container } from '../../shared/container';
import { startLocalHost } from '../../shared/local/startLocalHost';

// Not imported from ./localHost: that module loads Azurite's servers, seconds of start-up per run.
const APP_ROOT = path.resolve(__dirname, '..', '..', '..');

export const FaultStep = { beforeCommit: 'before-commit', afterCommit: 'after-commit', afterPublish: 'after-publish', none: 'none' } as const;
export type FaultStep = (typeof FaultStep)[keyof typeof FaultStep];

/** Wraps the container's store and bus so that the `at`-th arrival at `step` kills this process. */
function withKillSwitch(container: Container, step: FaultStep, at: number): Container {
  let arrivals = 0;
  const arrive = (reached: FaultStep) => {
    if (reached === step && ++arrivals === at) process.kill(process.pid, 'SIGKILL');
  };
  const { store, bus } = container;
  const commit: typeof store.commit = async (change) => {
    arrive(FaultStep.beforeCommit);
    await store.commit(change);
    arrive(FaultStep.afterCommit);
  };
  const send: typeof bus.send = async (destination, message) => {
    await bus.send(destination, message);
    if (destination === Destination.auditEvents) arrive(FaultStep.afterPublish);
  };
  return {
    ...container,
    store: Object.assign(Object.create(store), { commit }),
    bus: Object.assign(Object.create(bus), { send }),
  };
}

async function main(): Promise<void> {
  const step = (process.env.FAULT_STEP ?? FaultStep.none) as FaultStep;
  const at = Number(process.env.FAULT_AT ?? 1);
  provideContainer(buildContainer(parseSettings(), { info: () => undefined, warn: () => undefined }).then((container) => withKillSwitch(container, step, at)));
  const host = await startLocalHost({
    appRoot: APP_ROOT, port: 0, roles: { http: false, queues: true, timers: true }, loadDemoTopology: false, log: (line) => process.stdout.write(`${line}\n`),
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
