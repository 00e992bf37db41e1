import Module from 'node:module';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * Learns an app's function registrations from the functions themselves. Outside the Functions host,
 * `@azure/functions` asks for the host-provided module `@azure/functions-core`; we provide that
 * module's registration interface, so every `app.*` call in functions/ hands us its name, bindings
 * and handler. Tied to @azure/functions internals: the version is pinned and a test asserts the
 * registrations. Import this module before anything imports `@azure/functions`.
 */

/** One binding as the library describes it to the host. */
export interface Binding {
  type: string;
  direction: 'in' | 'out' | 'inout';
  route?: string;
  methods?: string[];
  queueName?: string;
  connection?: string;
  [option: string]: unknown;
}

/** A registered function: its name, its bindings, and the handler the host would invoke. */
export interface Registration {
  name: string;
  bindings: Binding[];
  handler: (...args: unknown[]) => unknown;
}

const registrations: Registration[] = [];

const hostModule = {
  setProgrammingModel(): void {},
  getProgrammingModel(): undefined {
    return undefined;
  },
  registerFunction(metadata: { name: string; bindings: Record<string, Binding> }, handler: Registration['handler']) {
    registrations.push({ name: metadata.name, bindings: Object.values(metadata.bindings), handler });
    return { dispose() {} };
  },
  registerHook() {
    return { dispose() {} };
  },
  log(): void {},
};

type Loader = (request: string, ...rest: unknown[]) => unknown;
const moduleInternals = Module as unknown as { _load: Loader };
const originalLoad = moduleInternals._load;
moduleInternals._load = function load(this: unknown, request: string, ...rest: unknown[]) {
  return request === '@azure/functions-core' ? hostModule : originalLoad.call(this, request, ...rest);
};

/** The trigger binding of a registration. */
export function triggerOf(registration: Registration): Binding {
  const trigger = registration.bindings.find((binding) => binding.direction === 'in' && binding.type.endsWith('Trigger'));
  if (!trigger) throw new Error(`function ${registration.name} has no trigger binding`);
  return trigger;
}

/** The files package.json's `main` names (a path whose file name may hold one `*`, as the Functions host allows). */
export function functionFiles(appRoot: string): string[] {
  const main = (JSON.parse(readFileSync(path.join(appRoot, 'package.json'), 'utf8')) as { main?: string }).main;
  if (!main) throw new Error('package.json has no "main": the Functions host finds functions through it');
  const directory = path.join(appRoot, path.dirname(main));
  const pattern = new RegExp(
    `^${path
      .basename(main)
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return readdirSync(directory)
    .filter((file) => pattern.test(file))
    .sort()
    .map((file) => path.join(directory, file));
}

/** Loads every function file of the app (once per process) and returns what they registered. */
export function loadFunctionApp(appRoot: string): Registration[] {
  // The files are found at run time, as the Functions host finds them: only require can load them.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  for (const file of functionFiles(appRoot)) require(file);
  return [...registrations];
}
