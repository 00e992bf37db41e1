import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConnectionSetting, isStorageConfigured } from '../settings';
import { azuriteConnectionString, isListening, startAzurite, type AzuriteProcess } from './azurite';
import { applyLocalSettings, LOCAL_SETTINGS_FILE } from './localSettings';
import { startLocalHost } from './startLocalHost';
import { DeploymentNames } from '../settings';

/**
 * `npm start`: Azurite from node_modules (unless AzureWebJobsStorage, or its identity-based settings, point elsewhere), then the
 * local Functions host on http://localhost:7071 (PORT overrides). Ctrl-C stops both cleanly.
 */
const appRoot = path.resolve(__dirname, '..', '..', '..');

function port(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`${name} must be a TCP port (0-65535)`);
  return value;
}

async function storage(log: (line: string) => void): Promise<AzuriteProcess | undefined> {
  if (isStorageConfigured()) {
    log(`Using the storage account in ${ConnectionSetting.storage} (or its identity-based settings).`);
    return undefined;
  }
  const ports = {
    blob: port('AZURITE_BLOB_PORT', 10000),
    queue: port('AZURITE_QUEUE_PORT', 10001),
    table: port('AZURITE_TABLE_PORT', 10002),
  };
  if ((await isListening(ports.queue)) && (await isListening(ports.table))) {
    log(`Azurite is already listening on ports ${ports.queue} and ${ports.table}; using it.`);
    process.env.AzureWebJobsStorage = azuriteConnectionString(ports);
    return undefined;
  }
  const location = path.resolve(appRoot, process.env.AZURITE_LOCATION ?? '.azurite');
  const azurite = await startAzurite({ location, ports, log });
  log(`Azurite started (tables :${ports.table}, queues :${ports.queue}), data in ${path.relative(process.cwd(), location) || '.'}`);
  process.env.AzureWebJobsStorage = azurite.connectionString;
  return azurite;
}

/**
 * The local data folder (Azurite's location): the development signing key and API keys live here.
 * It holds secrets, so it ignores itself in git even when AZURITE_LOCATION moves it inside a clone.
 */
function dataFolder(): string {
  const location = path.resolve(appRoot, process.env.AZURITE_LOCATION ?? '.azurite');
  mkdirSync(location, { recursive: true });
  const ignore = path.join(location, '.gitignore');
  if (!existsSync(ignore)) writeFileSync(ignore, '# Local data and secrets of npm start: never committed.\n*\n');
  return location;
}

/** The principals npm start makes a key for: one per role. */
const LOCAL_ROLES = ['submitter', 'operator', 'auditor', 'reader'] as const;

interface LocalKey {
  principal: string;
  roles: string[];
  key: string;
}

/**
 * With AUTH_MODE=keys (the default) and no LOCAL_API_KEYS, API keys are generated on first start,
 * one per role, kept (mode 0600) in the data folder and reused; printed so the caller can use them.
 */
function useLocalApiKeys(): LocalKey[] | undefined {
  if ((process.env.AUTH_MODE ?? 'keys') !== 'keys' || process.env.LOCAL_API_KEYS) return undefined;
  const file = path.join(dataFolder(), 'local-api-keys.json');
  if (!existsSync(file)) {
    // 32 random bytes, base64url: 43 characters, a bearer token as it stands.
    const keys: LocalKey[] = LOCAL_ROLES.map((role) => ({
      principal: `local-${role}`,
      roles: [role],
      key: randomBytes(32).toString('base64url'),
    }));
    writeFileSync(file, JSON.stringify(keys, null, 2) + '\n', { mode: 0o600 });
  }
  const text = readFileSync(file, 'utf8');
  process.env.LOCAL_API_KEYS = text;
  try {
    return JSON.parse(text) as LocalKey[];
  } catch {
    // The settings refuse it at start, naming LOCAL_API_KEYS.
    return undefined;
  }
}

/** Tells the caller how to authenticate in this AUTH_MODE (and, for generated keys, prints them). */
function describeAuthentication(log: (line: string) => void, generated: LocalKey[] | undefined): void {
  const mode = process.env.AUTH_MODE ?? 'keys';
  if (mode === 'off') return log('\nAUTH_MODE=off: every caller is "anonymous" with every role (development only).');
  if (mode === 'easyauth') return log('\nAUTH_MODE=easyauth: identity comes from App Service authentication (X-MS-CLIENT-PRINCIPAL).');
  if (!generated) return log('\nAPI keys: from LOCAL_API_KEYS. Send one as Authorization: Bearer <key>.');
  const file = path.relative(process.cwd(), path.join(dataFolder(), 'local-api-keys.json'));
  log(`\nAPI keys (AUTH_MODE=keys), kept in ${file}; send one as Authorization: Bearer <key>:`);
  for (const { principal, roles, key } of generated) log(`  ${principal.padEnd(16)} roles ${roles.join(',').padEnd(10)} key ${key}`);
  const envFile = path.join(dataFolder(), 'local-api-keys.env');
  writeFileSync(envFile, shellVariablesOf(generated), { mode: 0o600 });
  log(
    `In a shell, \`. ${path.relative(process.cwd(), envFile)}\` sets ${generated.map((k) => keyVariableOf(k)).join(', ')} (as the README's examples use them).`,
  );
}

/** The shell variable holding a generated key: PCHAT_<ROLE>_KEY. */
function keyVariableOf(key: LocalKey): string {
  return `PCHAT_${(key.roles[0] ?? 'caller').toUpperCase()}_KEY`;
}

/** The generated keys as shell assignments (base64url needs no quoting). */
function shellVariablesOf(keys: LocalKey[]): string {
  return `# API keys of npm start (${keys.map((k) => k.principal).join(', ')}); never commit this file.\n${keys.map((k) => `export ${keyVariableOf(k)}=${k.key}\n`).join('')}`;
}

/**
 * Locally, audit checkpoints are signed with a development Ed25519 key kept beside Azurite's data
 * (made on first start), unless AUDIT_SIGNING_KEY or AUDIT_SIGNING_KEY_VAULT_KEY_ID names another
 * key. In Azure a Key Vault key signs (AUDIT_SIGNING_KEY_VAULT_KEY_ID).
 */
function useDevelopmentSigningKey(log: (line: string) => void): void {
  if (process.env.AUDIT_SIGNING_KEY || process.env[DeploymentNames.appSettings.auditSigningKeyVaultKeyId]) return;
  const file = path.join(dataFolder(), 'audit-signing-key.pem');
  if (!existsSync(file)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
  process.env.AUDIT_SIGNING_KEY = readFileSync(file, 'utf8');
  log(`Audit checkpoints are signed with the development key in ${path.relative(process.cwd(), file) || file}.`);
}

async function main(): Promise<void> {
  const log = (line: string) => console.log(line);
  const applied = applyLocalSettings(appRoot);
  if (applied.length) log(`App settings from ${LOCAL_SETTINGS_FILE}: ${applied.join(', ')}`);
  const localStorage = !isStorageConfigured();
  const azurite = await storage(log);
  if (localStorage) useDevelopmentSigningKey(log);
  const generatedKeys = useLocalApiKeys();
  let host;
  try {
    host = await startLocalHost({ appRoot, port: port('PORT', 7071), hostname: process.env.HOST ?? '127.0.0.1', log });
  } catch (error) {
    await azurite?.stop();
    throw error;
  }
  const base = host.url.replace('127.0.0.1', 'localhost');
  if (host.demoTopologyLoaded)
    log('Loaded the demo topology: contoso.com, pcpool.contoso.com, pcpool2.contoso.com, sip:ocschat@contoso.com');
  log(`\nPersistent Chat endpoint service listening on ${base}/api`);
  for (const route of host.routes) log(`  ${route.methods.join(',').padEnd(10)} ${base}${route.path}   (${route.name})`);
  describeAuthentication(log, generatedKeys);
  log('\nPress Ctrl-C to stop.');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    log(`\n${signal}: stopping...`);
    await host.stop();
    await azurite?.stop();
    log('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
