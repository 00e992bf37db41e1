import './telemetryStart';
import type { LogFields } from '../application/ports/system';
import { parsePublicBaseUrl, parseSettings } from '../settings';
import type { HttpEntrypoint } from '../entrypoints/http/httpEntrypoint';
import { logFailure } from '../entrypoints/http/httpEntrypoint';
import type { HttpInput } from '../entrypoints/http/httpInput';
import { correlated } from '../entrypoints/http/correlation';
import { problemForError, type HttpOutput } from '../entrypoints/http/problems';
import type { QueueTrigger } from '../entrypoints/queue/endpointChangeMessages';
import { compose, consoleLogger, type Composition } from './compose';

/**
 * How function files bind entrypoints to this process's dependencies. Azure Functions calls a
 * handler with the trigger's input only, so the one lookup of dependencies happens here, at the
 * edge: every entrypoint further in is a plain function of (dependencies, input).
 *
 * In Azure the dependencies are composed from the app settings on the first invocation. A host that
 * loads the function app itself (the local host) composes them first and hands them over with
 * `runFunctionsWith`, so it can seed the directory with them and close them when it stops.
 */
let current: Promise<Composition> | undefined;

/** The dependencies this process's functions run with, composed on first use (and again if composing failed). */
function dependencies(): Promise<Composition> {
  current ??= compose(parseSettings()).catch((error: unknown) => {
    current = undefined;
    throw error;
  });
  return current;
}

/** Makes the functions of this process run with `composition` (the local host calls this before it serves). */
export function runFunctionsWith(composition: Composition): void {
  current = Promise.resolve(composition);
}

/**
 * What the Functions host says about an invocation (its InvocationContext has these): the function
 * and the invocation id, which the host's own log lines carry too.
 */
export interface Invocation {
  functionName?: string;
  invocationId?: string;
}

/** The log fields an invocation gives: only those the host set. */
function invocationFields(invocation: Invocation | undefined): LogFields {
  return {
    ...(invocation?.functionName ? { functionName: invocation.functionName } : {}),
    ...(invocation?.invocationId ? { invocationId: invocation.invocationId } : {}),
  };
}

/** The dependencies for one invocation: the composition, with a logger that names the invocation on every line. */
function forInvocation(deps: Composition, invocation: Invocation | undefined): Composition {
  return { ...deps, log: deps.log.with(invocationFields(invocation)) };
}

/**
 * An HTTP function's handler: the request in, the entrypoint's response out, X-Correlation-Id echoed
 * on either; failing to compose answers problem details.
 */
export function bindHttp(entrypoint: HttpEntrypoint<Composition>): (request: HttpInput, invocation?: Invocation) => Promise<HttpOutput> {
  return correlated(async (request: HttpInput, invocation?: Invocation) => {
    let deps: Composition;
    try {
      deps = await dependencies();
    } catch (error) {
      const output = problemForError(error, publicBaseUrlOrNothing());
      logFailure(consoleLogger.with(invocationFields(invocation)), request, output.status, error);
      return output;
    }
    return entrypoint(forInvocation(deps, invocation), request);
  });
}

/**
 * An anonymous HTTP function that needs only the public base URL (the problem pages): it answers
 * even when the rest of the composition cannot be built, so a misconfigured service still explains
 * its codes. The composition's URL when it exists (the local host's own origin), else the settings'.
 */
export function bindPublicHttp(
  entrypoint: (deps: { publicBaseUrl?: string }, request: HttpInput) => Promise<HttpOutput>,
): (request: HttpInput) => Promise<HttpOutput> {
  return correlated(async (request: HttpInput) => {
    const composed = current ? await current.catch(() => undefined) : undefined;
    const publicBaseUrl = composed?.publicBaseUrl ?? publicBaseUrlOrNothing();
    return entrypoint(publicBaseUrl === undefined ? {} : { publicBaseUrl }, request);
  });
}

/** The public base URL when the settings that give it are valid (composing failed, perhaps on another setting), else none. */
function publicBaseUrlOrNothing(): string | undefined {
  try {
    return parsePublicBaseUrl();
  } catch {
    return undefined;
  }
}

/** A queue function's handler: the message and its trigger metadata in; throwing asks the transport to redeliver. */
export function bindQueue(
  entrypoint: (deps: Composition, body: unknown, trigger: QueueTrigger) => Promise<unknown>,
): (body: unknown, trigger: QueueTrigger) => Promise<void> {
  return async (body, trigger) => {
    await entrypoint(forInvocation(await dependencies(), trigger), body, trigger);
  };
}

/** A timer function's handler; a failure is thrown for the host to log, and the next occurrence tries again. */
export function bindTimer(
  entrypoint: (deps: Composition) => Promise<unknown>,
): (timer?: unknown, invocation?: Invocation) => Promise<void> {
  return async (_timer, invocation) => {
    await entrypoint(forInvocation(await dependencies(), invocation));
  };
}
