#!/usr/bin/env node
/**
 * pchat: the command line (the package's `bin`). Exit codes: 0 done, 1 the answer is no, 2 usage,
 * 3 could not reach, authenticate, be authorised or check. See README, "Command line".
 */
import { runPchat } from './program';

runPchat(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // A bug, not an answer: say so, and exit as "could not check".
    process.stderr.write(`pchat: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 3;
  },
);
