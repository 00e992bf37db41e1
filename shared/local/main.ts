import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { azuriteConnectionString, isListening, startAzurite, type AzuriteProcess } from './azurite';
import { startLocalHost } from './startLocalHost';

/**
 * `npm start`: Azurite from node_modules (unless AzureWebJobsStorage points elsewhere), then the
 * local Functions host on http://localhost:7071 (PORT overrides). Ctrl-C stops both cleanly.
 */
const appRoot = path.resolve(__dirname, '..', '..', '..');

function port(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`${name} must be a TCP port (0-65535)`);
  return value;
}

async function storage(log: (line: string) => void): Promise<AzuriteProcess | undefined> {
  if (process.env.AzureWebJobsStorage) {
    log(`Using the storage account in AzureWebJobsStorage.`);
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
 * Locally, audit checkpoints are signed with a development key kept beside Azurite's data (made on
 * first start), unless AUDIT_SIGNING_KEY is set. In Azure the key comes from configuration.
 */
function useDevelopmentSigningKey(log: (line: string) => void): void {
  if (process.env.AUDIT_SIGNING_KEY) return;
  const location = path.resolve(appRoot, process.env.AZURITE_LOCATION ?? '.azurite');
  const file = path.join(location, 'audit-signing-key.pem');
  if (!existsSync(file)) {
    mkdirSync(location, { recursive: true });
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
  process.env.AUDIT_SIGNING_KEY = readFileSync(file, 'utf8');
  log(`Audit checkpoints are signed with the development key in ${path.relative(process.cwd(), file) || file}.`);
}

async function main(): Promise<void> {
  const log = (line: string) => console.log(line);
  const localStorage = !process.env.AzureWebJobsStorage;
  const azurite = await storage(log);
  if (localStorage) useDevelopmentSigningKey(log);
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
