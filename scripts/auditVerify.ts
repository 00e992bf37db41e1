import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { checkFiles, describe, verdict } from '../cli/auditOffline';
import { CliExit } from '../cli/exit';
import { verifyAuditLog } from '../shared/application/audit/verifyAuditLog';
import { compose, silentLogger } from '../shared/composition/compose';
import { azuriteConnectionString } from '../shared/local/azurite';
import { DeploymentNames, isStorageConfigured, parseSettings } from '../shared/settings';

/**
 * `npm run audit:verify -- --file audit.ndjson [--checkpoints c.ndjson ...] [--keys keys.json] [--against whole.ndjson] [--json]`:
 * checks an export offline, exactly as `pchat audit verify --file` does (exit 0 intact, 1 broken, 3 cannot check).
 */
async function offline(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      file: { type: 'string' },
      checkpoints: { type: 'string', multiple: true },
      keys: { type: 'string' },
      against: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  try {
    const report = await checkFiles({
      file: values.file as string,
      checkpoints: values.checkpoints ?? [],
      keys: values.keys,
      against: values.against,
    });
    console.log(values.json ? JSON.stringify(report, null, 2) : describe(report));
    const { exitCode, reason } = verdict(report);
    if (reason) console.error(reason);
    return exitCode;
  } catch (error) {
    if (!(error instanceof CliExit)) throw error;
    for (const line of error.lines) console.error(line);
    return error.exitCode;
  }
}

/**
 * `npm run audit:verify`: walks the audit log in AzureWebJobsStorage or its identity-based settings (default: the local Azurite that
 * `npm start` runs) and prints where it first breaks. Exit status 0 intact, 1 broken, 2 could not check.
 */
async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.some((arg) => arg === '--file' || arg.startsWith('--file='))) return offline(args);
  if (!isStorageConfigured()) {
    process.env.AzureWebJobsStorage = azuriteConnectionString({
      queue: Number(process.env.AZURITE_QUEUE_PORT ?? 10001),
      table: Number(process.env.AZURITE_TABLE_PORT ?? 10002),
    });
    // The development key `npm start` signs checkpoints with, so their signatures are checked too
    // (unless another key is named: a PEM key, or a Key Vault key reached with the identity in AZURE_CLIENT_ID).
    const developmentKey = path.resolve(__dirname, '..', '..', process.env.AZURITE_LOCATION ?? '.azurite', 'audit-signing-key.pem');
    const keyNamed = process.env.AUDIT_SIGNING_KEY || process.env[DeploymentNames.appSettings.auditSigningKeyVaultKeyId];
    if (!keyNamed && existsSync(developmentKey)) process.env.AUDIT_SIGNING_KEY = readFileSync(developmentKey, 'utf8');
  }
  const deps = await compose(parseSettings(), silentLogger);
  try {
    const report = await verifyAuditLog(deps);
    console.log(JSON.stringify(report, null, 2));
    if (report.intact) {
      console.log(
        `\nintact: ${report.recordsChecked} records, head ${report.head.sequence}, ${report.checkpoints.checked} signed checkpoints (key ${report.checkpoints.signingKey}${keysOf(report)})`,
      );
      return 0;
    }
    console.log(`\nBROKEN at record ${report.firstBreak?.sequence}: ${report.firstBreak?.kind}: ${report.firstBreak?.detail}`);
    return 1;
  } finally {
    await deps.close();
  }
}

/** The key ids that signed the checkpoints, for the summary line. */
function keysOf(report: Awaited<ReturnType<typeof verifyAuditLog>>): string {
  const keys = report.checkpoints.byKey.map(({ keyId, checkpoints }) => `${keyId ?? 'v1, before key ids'}: ${checkpoints}`);
  return keys.length > 0 ? `; ${keys.join(', ')}` : '';
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`could not verify the audit log: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  },
);
