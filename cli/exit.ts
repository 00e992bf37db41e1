/**
 * Exit codes, the same for every command, so a script can branch on them:
 * 0 done (applied, found, intact); 1 the answer is no (rejected, failed, canceled, a -WhatIf that
 * predicts a rejection, not found, a broken audit log); 2 usage (the command line or a value in it
 * is wrong); 3 the answer could not be had (unreachable, 401, 403, 429, 5xx, a timeout).
 */
export const ExitCode = {
  done: 0,
  no: 1,
  usage: 2,
  unavailable: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Ends a command with an exit code; `lines` go to stderr (the reason, the field errors). */
export class CliExit extends Error {
  constructor(
    readonly exitCode: ExitCode,
    readonly lines: string[],
  ) {
    super(lines[0] ?? `exit ${exitCode}`);
  }
}

/** A usage error naming the parameter and the rule it broke. */
export const usage = (parameter: string, rule: string): CliExit => new CliExit(ExitCode.usage, [`${parameter} ${rule}`]);
