import { randomUUID } from 'node:crypto';
import { InvocationContext } from '@azure/functions';
import type { Registration } from './functionsRegistry';

/** Where the local host writes a line of its log. */
export type HostLog = (line: string) => void;

/**
 * The context of one invocation, as the Functions host passes it: a fresh invocation id, the
 * function's name, the trigger's metadata, and `context.log` routed to the host log under the
 * function's name.
 */
export function createInvocationContext(
  registration: Registration,
  log: HostLog,
  triggerMetadata?: Record<string, unknown>,
): InvocationContext {
  return new InvocationContext({
    invocationId: randomUUID(),
    functionName: registration.name,
    triggerMetadata,
    logHandler: (level, ...args) => log(`[${registration.name}] ${level}: ${args.map(formatLogArgument).join(' ')}`),
  });
}

function formatLogArgument(argument: unknown): string {
  return typeof argument === 'string' ? argument : JSON.stringify(argument);
}
