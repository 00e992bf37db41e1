import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import type { Query } from './api';
import { exportAudit, listAudit, verifyAudit } from './audit';
import { verifyOffline, type OfflineOptions } from './auditOffline';
import { cancelRequest, getRequest, listRequests } from './changes';
import { contextOf, seconds, wholeNumber, type Context } from './context';
import { CMDLET_SPELLING, getEndpoints, KEBAB_SPELLING, newEndpoint, removeEndpoint } from './endpoints';
import { CliExit, ExitCode, usage } from './exit';
import { asPowerShellText, normaliseArguments } from './powershell';
import { changeTopology, getTopology } from './topology';

/** The package's version, from package.json (dist/cli/ is two folders below it). */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: string };
  return manifest.version ?? 'unknown';
}

/** A repeatable option's values, in the order given. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** -ResultSize N, or Unlimited (as the cmdlet takes it). */
function resultSize(value: string): number {
  if (/^unlimited$/i.test(value)) return Number.POSITIVE_INFINITY;
  return wholeNumber(1, 1_000_000)(value);
}

/** Runs the command line and returns its exit code (it never calls process.exit, so output is flushed). */
export async function runPchat(args: readonly string[]): Promise<ExitCode> {
  let exitCode: ExitCode = ExitCode.done;
  /** Wraps an action: builds the context from the global options, runs it, keeps its exit code. */
  const act =
    <A extends unknown[]>(action: (context: Context, ...args: A) => Promise<ExitCode>) =>
    async (...args: unknown[]): Promise<void> => {
      const command = args[args.length - 1] as Command;
      exitCode = await action(contextOf(command), ...(args.slice(0, -1) as A));
    };

  const program = buildProgram(act);
  try {
    await program.parseAsync(normaliseArguments(args), { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end the parse with a CommanderError too; they are not failures.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? ExitCode.done : ExitCode.usage;
    }
    if (error instanceof CliExit) {
      for (const line of error.lines) process.stderr.write(`pchat: ${line}\n`);
      return error.exitCode;
    }
    throw error;
  }
}

type Act = <A extends unknown[]>(action: (context: Context, ...args: A) => Promise<ExitCode>) => (...args: unknown[]) => Promise<void>;

function buildProgram(act: Act): Command {
  const program = new Command('pchat')
    .description('Persistent Chat endpoint change requests: the cmdlets, and the same operations as commands')
    .version(packageVersion(), '--version')
    .exitOverride()
    // Cmdlet parameters are declared as --SipAddress and typed as -SipAddress: messages show them as typed.
    .configureOutput({
      writeOut: (text) => process.stdout.write(asPowerShellText(text)),
      writeErr: (text) => process.stderr.write(asPowerShellText(text)),
      outputError: (text, write) => write(`pchat: ${asPowerShellText(text.replace(/^error: /, ''))}`),
    })
    .showSuggestionAfterError(true)
    .option('--url <url>', "the app's origin, e.g. http://localhost:7071 (default: PCHAT_URL, else http://localhost:${PORT:-7071})")
    .option('--json', "print the API's JSON exactly, for scripts")
    .option('--no-wait', 'return once a change is accepted (202), printing its id, instead of waiting for its outcome')
    .option('--timeout <seconds>', 'how long to wait for a change to be applied (default 120)', seconds);

  addCmdlets(program, act);
  addEndpointCommands(program, act);
  addRequestCommands(program, act);
  addTopologyCommands(program, act);
  addAuditCommands(program, act);
  return program;
}

function addCmdlets(program: Command, act: Act): void {
  const names = CMDLET_SPELLING;
  program
    .command('New-CsPersistentChatEndpoint')
    .description('New-CsPersistentChatEndpoint: create a Persistent Chat endpoint (waits until it is applied)')
    .requiredOption('--SipAddress <address>', 'the SIP address, sip:user@domain')
    .requiredOption('--PersistentChatPoolFqdn <fqdn>', 'the Persistent Chat pool')
    .option('--DisplayName <name>', 'the display name')
    .option('--WhatIf', 'show what would happen; change nothing')
    .action(
      act((context, options: { SipAddress: string; PersistentChatPoolFqdn: string; DisplayName?: string; WhatIf?: boolean }) =>
        newEndpoint(
          context,
          {
            sipAddress: options.SipAddress,
            pool: options.PersistentChatPoolFqdn,
            displayName: options.DisplayName,
            whatIf: options.WhatIf,
          },
          names,
        ),
      ),
    );
  program
    .command('Get-CsPersistentChatEndpoint')
    .description('Get-CsPersistentChatEndpoint: one endpoint by -Identity, or the endpoints matching -Filter and -PersistentChatPoolFqdn')
    .argument('[Identity]', 'the SIP address or display name (as -Identity)')
    .option('--Identity <identity>', 'a SIP address or a display name')
    .option('--PersistentChatPoolFqdn <fqdn>', 'only endpoints of this pool (* wildcards)')
    .option('--Filter <wildcard>', 'SIP addresses matching this pattern, e.g. sip:*@contoso.com')
    .option('--ResultSize <n>', 'at most this many endpoints (or Unlimited)', resultSize)
    .action(
      act(
        (
          context,
          identity: string | undefined,
          options: { Identity?: string; PersistentChatPoolFqdn?: string; Filter?: string; ResultSize?: number },
        ) =>
          getEndpoints(
            context,
            {
              identity: oneIdentity(identity, options.Identity, names.identity),
              pool: options.PersistentChatPoolFqdn,
              filter: options.Filter,
              resultSize: options.ResultSize,
            },
            names,
          ),
      ),
    );
  program
    .command('Remove-CsPersistentChatEndpoint')
    .description('Remove-CsPersistentChatEndpoint: remove an endpoint (waits until it is applied)')
    .argument('[Identity]', 'the SIP address or display name (as -Identity)')
    .option('--Identity <identity>', 'the SIP address or display name of the endpoint')
    .option('--WhatIf', 'show what would happen; change nothing')
    .action(
      act((context, identity: string | undefined, options: { Identity?: string; WhatIf?: boolean }) => {
        const given = oneIdentity(identity, options.Identity, names.identity);
        if (given === undefined) throw usage(names.identity, 'is required (the SIP address or display name of the endpoint)');
        return removeEndpoint(context, { identity: given, whatIf: options.WhatIf }, names);
      }),
    );
}

/** -Identity by name or by position (PowerShell binds the first positional argument to it), not both. */
function oneIdentity(positional: string | undefined, named: string | undefined, parameter: string): string | undefined {
  if (positional !== undefined && named !== undefined) throw usage(parameter, 'is given twice (by position and by name)');
  return positional ?? named;
}

function addEndpointCommands(program: Command, act: Act): void {
  const names = KEBAB_SPELLING;
  const endpoint = program.command('endpoint').description('Persistent Chat endpoints');
  endpoint
    .command('new')
    .description('create an endpoint (New-CsPersistentChatEndpoint)')
    .requiredOption('--sip-address <address>', 'the SIP address, sip:user@domain')
    .requiredOption('--pool <fqdn>', 'the Persistent Chat pool')
    .option('--display-name <name>', 'the display name')
    .option('--what-if', 'show what would happen; change nothing')
    .action(
      act((context, options: { sipAddress: string; pool: string; displayName?: string; whatIf?: boolean }) =>
        newEndpoint(context, options, names),
      ),
    );
  endpoint
    .command('get')
    .description('one endpoint by --identity, or those matching --filter and --pool (Get-CsPersistentChatEndpoint)')
    .option('--identity <identity>', 'a SIP address or a display name')
    .option('--pool <fqdn>', 'only endpoints of this pool (* wildcards)')
    .option('--filter <wildcard>', 'SIP addresses matching this pattern, e.g. sip:*@contoso.com')
    .option('--result-size <n>', 'at most this many endpoints', resultSize)
    .action(
      act((context, options: { identity?: string; pool?: string; filter?: string; resultSize?: number }) =>
        getEndpoints(context, options, names),
      ),
    );
  endpoint
    .command('remove')
    .description('remove an endpoint (Remove-CsPersistentChatEndpoint)')
    .requiredOption('--identity <identity>', 'the SIP address or display name of the endpoint')
    .option('--what-if', 'show what would happen; change nothing')
    .action(act((context, options: { identity: string; whatIf?: boolean }) => removeEndpoint(context, options, names)));

  program
    .command('migrate')
    .description('replace the Lync 2010 Group Chat user holding the address with an endpoint, atomically')
    .requiredOption('--sip-address <address>', "the well-known user's SIP address, e.g. sip:ocschat@contoso.com")
    .requiredOption('--pool <fqdn>', 'the Persistent Chat pool')
    .option('--display-name <name>', 'the display name')
    .option('--what-if', 'show what would happen; change nothing')
    .action(
      act((context, options: { sipAddress: string; pool: string; displayName?: string; whatIf?: boolean }) =>
        newEndpoint(context, { ...options, replaceLegacyUser: true }, names),
      ),
    );
}

function addRequestCommands(program: Command, act: Act): void {
  const request = program.command('request').description('change requests');
  request
    .command('get')
    .description('a change request and its status (exit 0 applied or accepted, 1 rejected, failed or canceled)')
    .argument('<id>', 'the change request id')
    .action(act((context, id: string) => getRequest(context, id)));
  request
    .command('list')
    .description('change requests, newest first (a submitter sees its own)')
    .addOption(
      new Option('--status <status>', 'only requests in this status').choices(['accepted', 'applied', 'rejected', 'failed', 'canceled']),
    )
    .option('--sip-address <address>', 'only requests for this SIP address')
    .addOption(new Option('--operation <operation>', 'only creates or deletes').choices(['create', 'delete']))
    .option('--since <time>', 'accepted at or after (RFC 3339)')
    .option('--until <time>', 'accepted before (RFC 3339)')
    .option('--limit <n>', 'at most this many (1-1000)', wholeNumber(1, 1000))
    .option('--cursor <cursor>', 'the page after the one that printed it')
    .action(act((context, options: Query) => listRequests(context, options)));
  request
    .command('cancel')
    .description('cancel a request that is still accepted (exit 1 when it has settled already)')
    .argument('<id>', 'the change request id')
    .action(act((context, id: string) => cancelRequest(context, id)));
}

function addTopologyCommands(program: Command, act: Act): void {
  const topology = program.command('topology').description('SIP domains, Persistent Chat pools and directory users');
  topology
    .command('get')
    .description('the whole topology')
    .action(act((context) => getTopology(context)));

  const domain = topology.command('sip-domain').description('SIP domains');
  domain
    .command('add')
    .argument('<domain>', 'the SIP domain, e.g. fabrikam.com')
    .action(act((context, name: string) => changeTopology(context, 'sip-domain', 'add', name)));
  domain
    .command('remove')
    .argument('<domain>', 'the SIP domain')
    .action(act((context, name: string) => changeTopology(context, 'sip-domain', 'remove', name)));

  const pool = topology.command('pool').description('Persistent Chat pools');
  pool
    .command('add')
    .argument('<fqdn>', 'the pool FQDN, e.g. pc.fabrikam.com')
    .option('--default-endpoint <address>', "the pool's default endpoint (default sip:<first label>@<rest of the FQDN>)")
    .action(
      act((context, name: string, options: { defaultEndpoint?: string }) =>
        changeTopology(
          context,
          'pool',
          'add',
          name,
          options.defaultEndpoint !== undefined ? { defaultEndpointSipAddress: options.defaultEndpoint } : undefined,
        ),
      ),
    );
  pool
    .command('remove')
    .argument('<fqdn>', 'the pool FQDN')
    .action(act((context, name: string) => changeTopology(context, 'pool', 'remove', name)));

  const user = topology.command('user').description('directory users (such as a Lync 2010 Group Chat user)');
  user
    .command('add')
    .argument('<sip-address>', 'the SIP address, e.g. sip:ocschat@fabrikam.com')
    .option('--display-name <name>', 'the display name')
    .action(
      act((context, name: string, options: { displayName?: string }) =>
        changeTopology(context, 'user', 'add', name, options.displayName !== undefined ? { displayName: options.displayName } : undefined),
      ),
    );
  user
    .command('remove')
    .argument('<sip-address>', 'the SIP address')
    .action(act((context, name: string) => changeTopology(context, 'user', 'remove', name)));
}

/** The filters audit list and export share. */
function withAuditFilters(command: Command): Command {
  return command
    .option('--subject <subject>', 'a SIP address, or a topology subject such as pool:pcpool.contoso.com')
    .option('--type <action>', 'an audit action, e.g. endpoint.created')
    .option('--actor <principal>', 'who did it')
    .option('--on-behalf-of <name>', 'whom a queue message said it acted for')
    .addOption(new Option('--outcome <outcome>', 'applied, rejected or failed').choices(['applied', 'rejected', 'failed']))
    .option('--change-request <id>', 'one change request')
    .option('--correlation <id>', 'one correlation id')
    .option('--since <time>', 'at or after (RFC 3339)')
    .option('--until <time>', 'before (RFC 3339)');
}

function addAuditCommands(program: Command, act: Act): void {
  const audit = program.command('audit').description('the audit log');
  withAuditFilters(audit.command('list').description('audit records, newest first'))
    .option('--limit <n>', 'at most this many (1-1000)', wholeNumber(1, 1000))
    .option('--cursor <cursor>', 'the page after the one that printed it')
    .action(act((context, options: Query) => listAudit(context, options)));
  withAuditFilters(audit.command('export').description('the whole filtered log, streamed into a file'))
    .addOption(new Option('--format <format>', 'ndjson or csv').choices(['ndjson', 'csv']).makeOptionMandatory())
    .requiredOption('--output <file>', 'the file to write')
    .action(
      act((context, options: Query & { output: string }) => {
        const { output, ...query } = options;
        return exportAudit(context, query, output);
      }),
    );
  audit
    .command('verify')
    .description(
      'check the log is complete and untouched (exit 0 intact, 1 broken, 3 cannot check); waits for the verification; --file: an export, offline',
    )
    .option('--full', 'walk the whole log, not only what was appended since the last verification')
    .option('--file <file>', 'check this export (GET /api/audit?format=ndjson) on this machine: nothing is fetched')
    .option('--checkpoints <file>', "a copy of the checkpoints (the API's first, then witnesses' saved events); repeatable", collect, [])
    .option('--keys <file>', "the signing keys' JWK set (GET /api/audit/signing-keys)")
    .option('--against <file>', 'a contiguous export to check the filtered --file against')
    .action(
      act((context, options: Partial<OfflineOptions> & { checkpoints: string[]; full?: boolean }) => {
        if (options.file !== undefined) {
          if (options.full) throw usage('--full', 'checks the log in storage; an export given with --file is always checked whole');
          return verifyOffline(context.output, { ...options, file: options.file });
        }
        const offlineOnly =
          options.checkpoints.length > 0
            ? '--checkpoints'
            : options.keys !== undefined
              ? '--keys'
              : options.against !== undefined
                ? '--against'
                : undefined;
        if (offlineOnly) throw usage(offlineOnly, 'needs --file (it checks an export offline)');
        return verifyAudit(context, { full: options.full });
      }),
    );
}
