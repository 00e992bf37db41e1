import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { QueueServiceClient } from '@azure/storage-queue';
import { startLocalHost } from '../../shared/local/startLocalHost';
import type { Composition } from '../../shared/composition/compose';
import { startTestAzurite, type TestAzurite } from './azurite';

/** The repository root (tests run from dist/test/…). */
export const APP_ROOT = path.resolve(__dirname, '..', '..', '..');

/** A local host over its own Azurite, for end-to-end tests over real HTTP. */
export interface E2EEnvironment {
  baseUrl: string;
  azurite: TestAzurite;
  /** The dependencies the functions run with, for reading what they stored. */
  dependencies: Composition;
  queues: QueueServiceClient;
  logs: string[];
  /** Bearer tokens (AUTH_MODE=keys): one per role, and `all` holding every role. */
  keys: TestKeys;
  /** The principal name each key identifies. */
  principals: TestKeys;
  stop(): Promise<void>;
}

/** One value per test caller: a principal per role, and one with every role. */
export interface TestKeys {
  submitter: string;
  operator: string;
  auditor: string;
  reader: string;
  all: string;
}

/** The roles of each test caller. */
const TEST_ROLES: Record<keyof TestKeys, string[]> = {
  submitter: ['submitter'],
  operator: ['operator'],
  auditor: ['auditor'],
  reader: ['reader'],
  all: ['submitter', 'operator', 'auditor', 'reader'],
};

/**
 * Fresh API keys for this process's callers, set as AUTH_MODE=keys and LOCAL_API_KEYS in
 * process.env (where the host reads its settings, as npm start does), with principals
 * `e2e-<role>-<random>` so no two runs share a name.
 */
export function useTestKeys(extraKeys: ConfiguredKey[] = []): { keys: TestKeys; principals: TestKeys } {
  const run = randomBytes(4).toString('hex');
  const callers = Object.keys(TEST_ROLES) as Array<keyof TestKeys>;
  const entries = callers.map((caller) => ({
    caller,
    principal: `e2e-${caller}-${run}`,
    roles: TEST_ROLES[caller],
    key: randomBytes(32).toString('base64url'),
  }));
  process.env.AUTH_MODE = 'keys';
  process.env.LOCAL_API_KEYS = JSON.stringify([...entries.map(({ principal, roles, key }) => ({ principal, roles, key })), ...extraKeys]);
  const pick = (field: 'principal' | 'key') => Object.fromEntries(entries.map((e) => [e.caller, e[field]])) as unknown as TestKeys;
  return { keys: pick('key'), principals: pick('principal') };
}

/** How a test wants its environment. */
export interface E2EOptions {
  /** Lets a test put a fault into the composed directory or bus. */
  adapt?: (composition: Composition) => Composition;
  /**
   * Whether the empty store gets the demo topology, as `npm start` loads it (the default). Tests
   * that make their own data pass false, so nothing they do can lean on it.
   */
  loadDemoTopology?: boolean;
  /** Keys configured besides the generated ones: a principal a test needs by name (one a spreadsheet would run, say). */
  extraKeys?: ConfiguredKey[];
  /** App settings for this host alone (a low rate limit, say): set while it starts and reads them, then restored. */
  settings?: Record<string, string>;
  /**
   * An Azurite to run on instead of a fresh one: a host restarted on the same storage (new settings,
   * the same log). Stopping the environment then leaves it running; its owner stops it.
   */
  azurite?: TestAzurite;
}

/** Runs `start` with `settings` in process.env, then puts back what was there. */
async function withSettings<T>(settings: Record<string, string>, start: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(settings).map((name) => [name, process.env[name]]));
  Object.assign(process.env, settings);
  try {
    return await start();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** One entry of LOCAL_API_KEYS. */
export interface ConfiguredKey {
  principal: string;
  roles: string[];
  key: string;
}

/**
 * Starts Azurite and the local Functions host in this process (HTTP on an ephemeral loopback port,
 * queue triggers polling Azurite), exactly as `npm start` wires it.
 */
export async function startE2EEnvironment(options: E2EOptions = {}): Promise<E2EEnvironment> {
  const azurite = options.azurite ?? (await startTestAzurite());
  process.env.AzureWebJobsStorage = azurite.connectionString;
  const { keys, principals } = useTestKeys(options.extraKeys);
  const logs: string[] = [];
  const host = await withSettings(options.settings ?? {}, () =>
    startLocalHost({
      appRoot: APP_ROOT,
      port: 0,
      log: (line) => logs.push(line),
      loadDemoTopology: options.loadDemoTopology ?? true,
      ...(options.adapt ? { adapt: options.adapt } : {}),
    }),
  );
  return {
    baseUrl: `${host.url}/api`,
    azurite,
    dependencies: host.dependencies,
    queues: QueueServiceClient.fromConnectionString(azurite.connectionString),
    logs,
    keys,
    principals,
    stop: async () => {
      await host.stop();
      if (!options.azurite) await azurite.stop();
    },
  };
}

/** Reads (and removes) every message on a Storage queue, base64-decoded and JSON-parsed. */
export async function drainQueue(queues: QueueServiceClient, name: string): Promise<any[]> {
  const queue = queues.getQueueClient(name);
  if (!(await queue.exists())) return [];
  const bodies: any[] = [];
  for (;;) {
    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32 });
    if (receivedMessageItems.length === 0) return bodies;
    for (const message of receivedMessageItems) {
      bodies.push(JSON.parse(Buffer.from(message.messageText, 'base64').toString('utf8')));
      await queue.deleteMessage(message.messageId, message.popReceipt);
    }
  }
}

/** A response from the API, its body parsed. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any;
}

/** Calls the API: a method, a path under the base URL, an optional JSON body (a string is sent as is) and headers. */
export type ApiCall = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<ApiResponse>;

/**
 * Calls the API under `baseUrl` with an optional JSON body, as the holder of `key` (sent as
 * `authorization: Bearer <key>`; an authorization header the call passes itself wins).
 */
export function apiClient(baseUrl: string, key?: string): ApiCall {
  return async (method, path, body, headers = {}) => {
    const init: RequestInit = {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(key !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')
          ? { authorization: `Bearer ${key}` }
          : {}),
        ...headers,
      },
    };
    if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
    const response = await fetch(`${baseUrl}${path}`, init);
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  };
}

/** Polls `probe` until it returns a value, failing after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
