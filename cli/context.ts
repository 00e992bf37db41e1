import { InvalidArgumentError, type Command } from 'commander';
import { Api, apiKeyFrom, apiRootFrom } from './api';
import { usage } from './exit';
import { processOutput, type Output } from './output';

/** What every command runs with: the API, where output goes, and how long to wait for an outcome. */
export interface Context {
  api: Api;
  output: Output;
  /** Whether a change waits for its outcome (false with --no-wait). */
  wait: boolean;
  /** How long a change may take before the command gives up (exit 3). */
  timeoutMs: number;
}

/** The global options, as commander parsed them. */
interface GlobalOptions {
  url?: string;
  json?: boolean;
  wait?: boolean;
  timeout?: number;
}

/** One HTTP call may take this long, whatever the overall timeout. */
const CALL_TIMEOUT_MS = 30_000;

/** Builds the context from the command's global options and the environment. */
export function contextOf(command: Command, env: NodeJS.ProcessEnv = process.env): Context {
  const options = command.optsWithGlobals<GlobalOptions>();
  const timeoutMs = (options.timeout ?? 120) * 1000;
  return {
    api: new Api({ root: apiRootFrom(options.url, env), key: apiKeyFrom(env), callTimeoutMs: Math.min(CALL_TIMEOUT_MS, timeoutMs) }),
    output: processOutput(options.json === true),
    wait: options.wait !== false,
    timeoutMs,
  };
}

/** A commander argument parser for a whole number in [min, max]; the message names the rule (commander names the option). */
export function wholeNumber(min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^\d{1,9}$/.test(value) || Number(value) < min || Number(value) > max)
      throw invalid(`must be a whole number from ${min} to ${max}`);
    return Number(value);
  };
}

/** Seconds: a positive number, at most a day. */
export function seconds(value: string): number {
  if (!/^\d{1,6}(\.\d{1,3})?$/.test(value) || Number(value) <= 0 || Number(value) > 86_400)
    throw invalid('must be a number of seconds greater than 0 and at most 86400');
  return Number(value);
}

/** commander turns an InvalidArgumentError into "option '--x <n>' argument 'v' is invalid. <message>". */
function invalid(message: string): Error {
  return new InvalidArgumentError(message);
}

export { usage };
