import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_DELIVERY_POLICY } from '../../../shared/application/deliveryPolicy';
import { ServiceBusRules, StorageQueueRules } from '../../../shared/adapters/transportRules';
import { ROLES } from '../../../shared/domain/principal';
import { AuthMode, parseSettings, SETTING_NAMES, Transport } from '../../../shared/settings';
import { blockFrom, declarationBlock, evaluate, stringLiterals, topLevelEntries, withoutComments } from './bicepText';

/**
 * The checks that keep infra/, azure.yaml, host.json and the code agreeing with shared/names.json.
 * Each takes the deployment's sources (file texts and what the code says) and returns its problems,
 * each naming the file and the value that disagrees; an empty list means the check passes. The
 * tests run every check on the repository, and on altered copies of the sources to show it fails.
 */

/** Repository-relative path → text, plus the facts the code states. */
export interface DeploymentSources {
  files: Map<string, string>;
  code: {
    /** The settings shared/settings.ts parses. */
    settingNames: readonly string[];
    /** MAX_DELIVERY_COUNT's default, as parsed from an environment that does not set it. */
    defaultMaxDeliveries: number;
    /** DEFAULT_DELIVERY_POLICY.maxDeliveries. */
    policyMaxDeliveries: number;
    /** The app roles (shared/domain/principal.ts). */
    roles: readonly string[];
    /** Where each transport's adapter sets letters aside (shared/adapters/transportRules.ts). */
    deadLetterSuffixes: { storageQueues: string; serviceBus: string };
  };
}

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..');

const NAMES = 'shared/names.json';
const HOST = 'host.json';
const AZURE_YAML = 'azure.yaml';
const MAIN = 'infra/main.bicep';
const FUNCTION_APP = 'infra/modules/functionApp.bicep';
const SERVICE_BUS = 'infra/modules/serviceBus.bicep';
const STORAGE = 'infra/modules/storage.bicep';
const APP_REGISTRATION = 'infra/modules/appRegistration.bicep';

/**
 * Settings the service relies on that shared/settings.ts does not parse, because something else
 * reads them. Each one says who.
 */
export const READ_OUTSIDE_SETTINGS: Record<string, string> = {
  APPLICATIONINSIGHTS_CONNECTION_STRING: 'the Functions host and @azure/monitor-opentelemetry',
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'the Functions host (Entra ID authentication of telemetry)',
  AZURE_CLIENT_ID: "@azure/identity's credentials (which user-assigned identity to use)",
};

/** Reads the sources the checks need from a repository checkout. */
export function readDeploymentSources(root: string = REPO_ROOT): DeploymentSources {
  const files = new Map<string, string>();
  const read = (relative: string) => files.set(relative, readFileSync(path.join(root, relative), 'utf8'));
  const readDir = (dir: string, suffix: string) =>
    readdirSync(path.join(root, dir))
      .filter((file) => file.endsWith(suffix))
      .forEach((file) => read(`${dir}/${file}`));
  [NAMES, HOST, AZURE_YAML, MAIN].forEach(read);
  readDir('infra/modules', '.bicep');
  readDir('functions', '.ts');
  readDir('shared/entrypoints/http', '.ts');
  return {
    files,
    code: {
      settingNames: SETTING_NAMES,
      defaultMaxDeliveries: parseSettings({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' }).delivery.maxDeliveries,
      policyMaxDeliveries: DEFAULT_DELIVERY_POLICY.maxDeliveries,
      roles: ROLES,
      deadLetterSuffixes: { storageQueues: StorageQueueRules.deadLetterSuffix, serviceBus: ServiceBusRules.deadLetterSuffix },
    },
  };
}

type Names = typeof import('../../../shared/names.json');

function names(sources: DeploymentSources): Names {
  return JSON.parse(text(sources, NAMES)) as Names;
}

function text(sources: DeploymentSources, file: string): string {
  const content = sources.files.get(file);
  if (content === undefined) throw new Error(`${file} is missing`);
  return content;
}

function bicepFiles(sources: DeploymentSources): string[] {
  return [...sources.files.keys()].filter((file) => file.endsWith('.bicep'));
}

/** `<connection><suffix>` for every connection and identity suffix in names.json: the identity-based connection settings. */
function identityConnectionSettings(n: Names): Set<string> {
  const result = new Set<string>();
  for (const connection of Object.values(n.connections)) {
    for (const suffix of Object.values(n.identityConnectionSuffixes)) result.add(`${connection}${suffix}`);
  }
  return result;
}

/** The app settings functionApp.bicep sets: each name and value expression, and what they evaluate to. */
function bicepAppSettings(sources: DeploymentSources) {
  const file = text(sources, FUNCTION_APP);
  const block = declarationBlock(withoutComments(file), /^var appSettings =/m);
  if (!block) return undefined;
  const n = names(sources);
  return [...block.matchAll(/name:\s*(.+)\n\s*value:\s*(.+)/g)].map(([, nameExpr, valueExpr]) => ({
    nameExpr: nameExpr!.trim(),
    valueExpr: valueExpr!.trim(),
    name: evaluate(nameExpr!, n, file),
    value: evaluate(valueExpr!, n, file),
  }));
}

/** Every app setting Bicep sets is named from names.json (appSettings, or a connection + identity suffix) and is one the service reads. */
export function checkAppSettingNames(sources: DeploymentSources): string[] {
  const settings = bicepAppSettings(sources);
  if (!settings) return [`${FUNCTION_APP}: no \`var appSettings = [...]\` to check`];
  const n = names(sources);
  const identity = identityConnectionSettings(n);
  const known = new Set([...Object.values(n.appSettings), ...identity]);
  const read = new Set([...sources.code.settingNames, ...Object.keys(READ_OUTSIDE_SETTINGS), ...identity]);
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const { nameExpr, name } of settings) {
    if (!name?.fromNames || typeof name.value !== 'string') {
      problems.push(`${FUNCTION_APP}: app setting name ${nameExpr} is not taken from ${NAMES}`);
      continue;
    }
    if (!known.has(name.value))
      problems.push(`${FUNCTION_APP}: app setting ${name.value} is not in ${NAMES} appSettings or a connection + identity suffix`);
    if (!read.has(name.value))
      problems.push(`${FUNCTION_APP}: app setting ${name.value} is not a setting the service reads (shared/settings.ts)`);
    if (seen.has(name.value)) problems.push(`${FUNCTION_APP}: app setting ${name.value} is set twice`);
    seen.add(name.value);
  }
  return problems;
}

/** Connections are identity-based only, and Azure gets the transport, auth mode, key and telemetry settings it needs. */
export function checkAzureSettings(sources: DeploymentSources): string[] {
  const settings = bicepAppSettings(sources) ?? [];
  const n = names(sources);
  const byName = new Map(settings.filter((s) => typeof s.name?.value === 'string').map((s) => [s.name!.value as string, s]));
  const problems: string[] = [];
  for (const connection of Object.values(n.connections)) {
    if (byName.has(connection))
      problems.push(
        `${FUNCTION_APP}: sets ${connection}, a connection string; only identity-based ${connection}__* settings belong in Azure`,
      );
  }
  const suffix = n.identityConnectionSuffixes;
  const required = [
    `${n.connections.storage}${suffix.accountName}`,
    `${n.connections.storage}${suffix.credential}`,
    `${n.connections.storage}${suffix.clientId}`,
    `${n.connections.serviceBus}${suffix.fullyQualifiedNamespace}`,
    `${n.connections.serviceBus}${suffix.credential}`,
    `${n.connections.serviceBus}${suffix.clientId}`,
    n.appSettings.azureClientId,
    n.appSettings.transport,
    n.appSettings.authMode,
    n.appSettings.auditSigningKeyVaultKeyId,
    n.appSettings.applicationInsightsConnectionString,
    n.appSettings.applicationInsightsAuthenticationString,
    `${n.connections.storage}${suffix.blobServiceUri}`,
    n.appSettings.auditWitnessContainer,
  ];
  for (const name of required) if (!byName.has(name)) problems.push(`${FUNCTION_APP}: does not set ${name}`);
  const expect = (name: string, wanted: unknown, why: string) => {
    const setting = byName.get(name);
    if (setting && setting.value?.value !== wanted)
      problems.push(`${FUNCTION_APP}: ${name} is ${setting.valueExpr}, expected ${JSON.stringify(wanted)} (${why})`);
  };
  expect(n.appSettings.transport, n.transport.azure, `names.json transport.azure`);
  if (!Object.values(Transport).includes(n.transport.azure as Transport))
    problems.push(`${NAMES}: transport.azure ${n.transport.azure} is not a transport the code knows`);
  expect(n.appSettings.authMode, AuthMode.easyauth, 'App Service authentication');
  expect(`${n.connections.storage}${suffix.credential}`, 'managedidentity', 'the Functions identity-connection value');
  expect(`${n.connections.serviceBus}${suffix.credential}`, 'managedidentity', 'the Functions identity-connection value');
  for (const [setting, value] of [
    [n.appSettings.endpointCreateQueue, n.queues.endpointCreate],
    [n.appSettings.endpointDeleteQueue, n.queues.endpointDelete],
    [n.appSettings.auditEventsDestination, n.topics.auditEvents],
    [n.appSettings.directoryTable, n.tables.directory],
    [n.appSettings.maxDeliveryCount, String(n.delivery.maxDeliveryCount)],
  ] as const) {
    const found = byName.get(setting);
    if (found && (!found.value?.fromNames || found.value.value !== value))
      problems.push(`${FUNCTION_APP}: ${setting} is ${found.valueExpr}, not ${value} from ${NAMES}`);
  }
  return problems;
}

/** Every names.json app setting is one shared/settings.ts parses, or one READ_OUTSIDE_SETTINGS says who reads. */
export function checkNamesSettingsAreParsed(sources: DeploymentSources): string[] {
  const parsed = new Set([...sources.code.settingNames, ...Object.keys(READ_OUTSIDE_SETTINGS)]);
  return Object.entries(names(sources).appSettings)
    .filter(([, setting]) => !parsed.has(setting))
    .map(([key, setting]) => `${NAMES}: appSettings.${key} = ${setting} is not a setting shared/settings.ts parses`);
}

/** No queue, topic, subscription or table name is written out in a .bicep file: they come from names.json. */
export function checkNoHardCodedEntityNames(sources: DeploymentSources): string[] {
  const n = names(sources);
  const entities = [...Object.values(n.queues), ...Object.values(n.topics), ...Object.values(n.subscriptions), ...Object.values(n.tables)];
  const suffixes = Object.values(n.deadLetterSuffixes);
  const forbidden = new Set([...entities, ...Object.values(n.queues).flatMap((queue) => suffixes.map((s) => `${queue}${s}`))]);
  const problems: string[] = [];
  for (const file of bicepFiles(sources)) {
    for (const literal of stringLiterals(text(sources, file))) {
      if (forbidden.has(literal.trim())) problems.push(`${file}: hard-coded name '${literal}'; take it from ${NAMES}`);
    }
  }
  return problems;
}

/** maxDeliveryCount: names.json = host.json maxDequeueCount = MAX_DELIVERY_COUNT's default = DEFAULT_DELIVERY_POLICY; the Service Bus queues take it (and the lock duration) from names.json. */
export function checkDeliveryCounts(sources: DeploymentSources): string[] {
  const n = names(sources);
  const expected = n.delivery.maxDeliveryCount;
  const problems: string[] = [];
  const host = JSON.parse(text(sources, HOST)) as { extensions?: { queues?: { maxDequeueCount?: number } } };
  const dequeue = host.extensions?.queues?.maxDequeueCount;
  if (dequeue !== expected)
    problems.push(`${HOST}: extensions.queues.maxDequeueCount is ${dequeue}, ${NAMES} delivery.maxDeliveryCount is ${expected}`);
  if (sources.code.defaultMaxDeliveries !== expected)
    problems.push(`shared/settings.ts: MAX_DELIVERY_COUNT defaults to ${sources.code.defaultMaxDeliveries}, ${NAMES} says ${expected}`);
  if (sources.code.policyMaxDeliveries !== expected)
    problems.push(
      `shared/application/deliveryPolicy.ts: DEFAULT_DELIVERY_POLICY.maxDeliveries is ${sources.code.policyMaxDeliveries}, ${NAMES} says ${expected}`,
    );
  const file = text(sources, SERVICE_BUS);
  const queue = declarationBlock(withoutComments(file), /^resource queues 'Microsoft\.ServiceBus\/namespaces\/queues@[^']+' =/m);
  const properties = queue && topLevelEntries(blockFrom(queue, queue.indexOf('properties:')) ?? '');
  if (!properties) return [...problems, `${SERVICE_BUS}: no \`resource queues\` with properties to check`];
  const from = (key: string, wanted: unknown) => {
    const value = properties.get(key);
    const evaluated = value === undefined ? undefined : evaluate(value, n, file);
    if (!evaluated?.fromNames || evaluated.value !== wanted)
      problems.push(`${SERVICE_BUS}: queue ${key} is ${value ?? 'not set'}, not ${NAMES}'s ${String(wanted)}`);
  };
  from('maxDeliveryCount', expected);
  from('lockDuration', n.delivery.lockDuration);
  for (const key of ['requiresDuplicateDetection', 'deadLetteringOnMessageExpiration']) {
    if (properties.get(key) !== 'true') problems.push(`${SERVICE_BUS}: queue ${key} is ${properties.get(key) ?? 'not set'}, expected true`);
  }
  const queues = evaluate(/^var changeRequestQueues = (.+)$/m.exec(withoutComments(file))?.[1] ?? '', n, file);
  const wantedQueues = Object.values(n.queues).sort();
  if (!queues?.fromNames || JSON.stringify((queues.value as string[]).slice().sort()) !== JSON.stringify(wantedQueues))
    problems.push(`${SERVICE_BUS}: changeRequestQueues is not ${NAMES}'s queues ${wantedQueues.join(', ')}`);
  return problems;
}

/** The topic, its subscription, the invalid-message queues and the table are created under names.json's names; the dead-letter suffixes match the adapters'. */
export function checkEntities(sources: DeploymentSources): string[] {
  const n = names(sources);
  const problems: string[] = [];
  const nameOf = (file: string, header: RegExp) => {
    const block = declarationBlock(withoutComments(text(sources, file)), header);
    const expr = block && topLevelEntries(block).get('name');
    return { expr, value: expr === undefined ? undefined : evaluate(expr, n, text(sources, file)) };
  };
  const expectName = (file: string, what: string, header: RegExp, wanted: string) => {
    const found = nameOf(file, header);
    if (!found.value?.fromNames || found.value.value !== wanted)
      problems.push(`${file}: ${what} is named ${found.expr ?? '(not found)'}, not ${NAMES}'s ${wanted}`);
  };
  expectName(SERVICE_BUS, 'the audit-events topic', /^resource auditEvents '[^']+' =/m, n.topics.auditEvents);
  expectName(SERVICE_BUS, 'the archive subscription', /^resource auditArchive '[^']+' =/m, n.subscriptions.auditArchive);
  expectName(STORAGE, 'the directory table', /^resource directoryTable '[^']+' =/m, n.tables.directory);
  const topic = declarationBlock(withoutComments(text(sources, SERVICE_BUS)), /^resource auditEvents '[^']+' =/m) ?? '';
  if (!/requiresDuplicateDetection:\s*true/.test(topic)) problems.push(`${SERVICE_BUS}: the audit-events topic has no duplicate detection`);
  const invalid = declarationBlock(withoutComments(text(sources, SERVICE_BUS)), /^resource invalidQueues '[^']+' =/m) ?? '';
  if (!invalid.includes('${names.deadLetterSuffixes.serviceBus}'))
    problems.push(`${SERVICE_BUS}: the invalid-message queues are not named <queue>\${names.deadLetterSuffixes.serviceBus}`);
  for (const transport of ['storageQueues', 'serviceBus'] as const) {
    if (n.deadLetterSuffixes[transport] !== sources.code.deadLetterSuffixes[transport])
      problems.push(
        `${NAMES}: deadLetterSuffixes.${transport} is ${n.deadLetterSuffixes[transport]}, the adapter uses ${sources.code.deadLetterSuffixes[transport]}`,
      );
  }
  return problems;
}

/** The Function App runs Node 22 on the Flex Consumption plan. */
export function checkRuntime(sources: DeploymentSources): string[] {
  const file = withoutComments(text(sources, FUNCTION_APP));
  const runtime = declarationBlock(file, /runtime:/);
  const entries = runtime ? topLevelEntries(runtime) : new Map<string, string>();
  const problems: string[] = [];
  if (entries.get('name') !== "'node'" || entries.get('version') !== "'22'")
    problems.push(
      `${FUNCTION_APP}: functionAppConfig.runtime is ${entries.get('name') ?? '?'} ${entries.get('version') ?? '?'}, expected 'node' '22'`,
    );
  if (!/name:\s*'FC1'/.test(file) || !/tier:\s*'FlexConsumption'/.test(file))
    problems.push(`${FUNCTION_APP}: the plan is not FC1 / FlexConsumption`);
  return problems;
}

/** The routes registered with no role requirement, as /<routePrefix>/<route>: function files that do not bind an httpEntrypoint({ roles }). */
export function anonymousRoutes(sources: DeploymentSources): { anonymous: string[]; protectedRoutes: string[] } {
  const prefix =
    (JSON.parse(text(sources, HOST)) as { extensions?: { http?: { routePrefix?: string } } }).extensions?.http?.routePrefix ?? 'api';
  const withRoles = new Set<string>();
  for (const [file, content] of sources.files) {
    if (!file.startsWith('shared/entrypoints/http/')) continue;
    for (const match of content.matchAll(/export const (\w+) = httpEntrypoint\(\s*\{\s*roles:/g)) withRoles.add(match[1]!);
  }
  const anonymous: string[] = [];
  const protectedRoutes: string[] = [];
  for (const [file, content] of sources.files) {
    if (!file.startsWith('functions/')) continue;
    const route = /app\.http\([^)]*?route:\s*'([^']+)'/s.exec(content)?.[1];
    if (route === undefined) continue;
    const bound = /bindHttp\((\w+)\)/.exec(content)?.[1];
    (bound && withRoles.has(bound) ? protectedRoutes : anonymous).push(`/${prefix}/${route}`);
  }
  return { anonymous: anonymous.sort(), protectedRoutes: protectedRoutes.sort() };
}

/** Whether an excludedPaths entry (exact, or a trailing /* for everything under it) covers a route ({params} stand for one segment). */
function covers(excluded: string, route: string): boolean {
  const concrete = route.replace(/\{[^}]+\}/g, 'x');
  return excluded.endsWith('/*') ? concrete.startsWith(excluded.slice(0, -1)) : concrete === excluded;
}

/** excludedPaths covers every route without a role, and no route that needs one; App Service authentication answers 401 otherwise. */
export function checkExcludedPaths(sources: DeploymentSources): string[] {
  const file = text(sources, FUNCTION_APP);
  const code = withoutComments(file);
  const auth = declarationBlock(code, /^resource authSettings '[^']+' =/m) ?? '';
  const problems: string[] = [];
  for (const [pattern, wanted] of [
    [/unauthenticatedClientAction:\s*'([^']*)'/, 'Return401'],
    [/requireAuthentication:\s*(\w+)/, 'true'],
  ] as const) {
    const found = pattern.exec(auth)?.[1];
    if (found !== wanted)
      problems.push(`${FUNCTION_APP}: authsettingsV2 ${pattern.source.split(':')[0]} is ${found ?? 'not set'}, expected ${wanted}`);
  }
  const expr = /excludedPaths:\s*(.+)/.exec(auth)?.[1]?.trim() ?? '';
  const listed = /^\w+$/.test(expr) ? declarationBlock(code, new RegExp(`^var ${expr} =`, 'm')) : expr;
  const excluded = listed ? stringLiterals(listed) : [];
  const { anonymous, protectedRoutes } = anonymousRoutes(sources);
  for (const route of anonymous) {
    if (!excluded.some((path) => covers(path, route)))
      problems.push(`${FUNCTION_APP}: excludedPaths does not cover the anonymous route ${route}`);
  }
  for (const path of excluded) {
    const opened = protectedRoutes.find((route) => covers(path, route));
    if (opened) problems.push(`${FUNCTION_APP}: excludedPaths entry ${path} covers ${opened}, which needs a role`);
    else if (!anonymous.some((route) => covers(path, route)))
      problems.push(`${FUNCTION_APP}: excludedPaths entry ${path} matches no anonymous route`);
  }
  return problems;
}

/** No key, key-bearing connection string or secure parameter in any .bicep file, and no connection-string output but Application Insights' ingestion endpoint. */
export function checkNoSecrets(sources: DeploymentSources): string[] {
  // Application Insights' connection string names the ingestion endpoint; with local auth disabled it grants nothing.
  const allowedOutputs = new Set(['applicationInsightsConnectionString']);
  const problems: string[] = [];
  for (const file of bicepFiles(sources)) {
    const code = withoutComments(text(sources, file));
    for (const [pattern, what] of [
      [/listKeys\s*\(/i, 'listKeys('],
      [/AccountKey=/i, 'AccountKey='],
      [/SharedAccessKey/i, 'SharedAccessKey'],
      [/@secure\(\)/, '@secure()'],
    ] as const) {
      if (pattern.test(code)) problems.push(`${file}: contains ${what}`);
    }
    for (const match of code.matchAll(/^output (\w+) /gm)) {
      if (/connectionstring/i.test(match[1]!) && !allowedOutputs.has(match[1]!))
        problems.push(`${file}: output ${match[1]} is a connection string`);
    }
  }
  return problems;
}

/** The app registration's roles are the code's four roles. */
export function checkAppRoles(sources: DeploymentSources): string[] {
  const code = withoutComments(text(sources, APP_REGISTRATION));
  const roles = declarationBlock(code, /^var roles =/m) ?? '';
  const values = [...roles.matchAll(/value:\s*'([^']+)'/g)].map((m) => m[1]!).sort();
  const wanted = [...sources.code.roles].sort();
  return JSON.stringify(values) === JSON.stringify(wanted)
    ? []
    : [`${APP_REGISTRATION}: app roles are ${values.join(', ') || 'none'}, shared/domain/principal.ts has ${wanted.join(', ')}`];
}

/** azure.yaml names the `api` service (a function app built from this folder) and the infra path. */
export function checkAzureYaml(sources: DeploymentSources): string[] {
  const yaml = text(sources, AZURE_YAML);
  const problems: string[] = [];
  const api = /^services:\n {2}api:\n((?: {4}.*\n| *#.*\n|\n)*)/m.exec(yaml)?.[1];
  if (!api) return [`${AZURE_YAML}: no service named api`];
  for (const [key, pattern] of [
    ['host', /^ {4}host: function$/m],
    ['project', /^ {4}project: \.$/m],
    ['language', /^ {4}language: (ts|js)$/m],
  ] as const) {
    if (!pattern.test(api))
      problems.push(
        `${AZURE_YAML}: service api ${key} is ${/^ {4}(\w+): (.*)$/m.exec(api.split('\n').find((l) => l.startsWith(`    ${key}:`)) ?? '')?.[2] ?? 'not set'}, expected ${pattern.source}`,
      );
  }
  if (!/^infra:\n(?: {2}.*\n)*? {2}path: infra$/m.test(yaml)) problems.push(`${AZURE_YAML}: infra path is not infra`);
  return problems;
}

/** main.bicep passes each module only parameters it declares, all it requires, and reads only outputs it declares. */
export function checkModuleWiring(sources: DeploymentSources): string[] {
  const main = withoutComments(text(sources, MAIN));
  const problems: string[] = [];
  for (const match of main.matchAll(/^module (\w+) '(modules\/[\w.]+)' =/gm)) {
    const [, symbol, modulePath] = match;
    const file = `infra/${modulePath}`;
    const moduleText = sources.files.get(file);
    if (moduleText === undefined) {
      problems.push(`${MAIN}: module ${symbol} points at ${file}, which does not exist`);
      continue;
    }
    const moduleCode = withoutComments(moduleText);
    const declared = new Map(
      [...moduleCode.matchAll(/^param (\w+) ([^=\n]+)(=.*)?$/gm)].map((m) => [m[1]!, m[3] !== undefined || m[2]!.trim().endsWith('?')]),
    );
    const outputs = new Set([...moduleCode.matchAll(/^output (\w+) /gm)].map((m) => m[1]!));
    const block = blockFrom(main, match.index + match[0].length) ?? '';
    const params = topLevelEntries(blockFrom(block, block.indexOf('params:')) ?? '{}');
    for (const name of params.keys())
      if (!declared.has(name)) problems.push(`${MAIN}: module ${symbol} passes ${name}, which ${file} does not declare`);
    for (const [name, optional] of declared)
      if (!optional && !params.has(name)) problems.push(`${MAIN}: module ${symbol} does not pass ${name}, which ${file} requires`);
    for (const use of main.matchAll(new RegExp(`\\b${symbol}\\.outputs\\.(\\w+)`, 'g'))) {
      if (!outputs.has(use[1]!)) problems.push(`${MAIN}: reads ${symbol}.outputs.${use[1]}, which ${file} does not declare`);
    }
  }
  return problems;
}

const ROLE_ASSIGNMENTS = 'infra/modules/roleAssignments.bicep';

/**
 * The blob witness (issue 12): storage.bicep declares the witness container (named from names.json)
 * with a time-based immutability policy that is UNLOCKED (the Bicep never locks it: locking is the
 * operator's irreversible step), whose retention is the auditWitnessRetentionDays parameter and
 * which allows protected append writes (the day files are append blobs); the app identity gets
 * Storage Blob Data Contributor scoped to that container.
 */
export function checkAuditWitness(sources: DeploymentSources): string[] {
  const problems: string[] = [];
  const storage = withoutComments(sources.files.get(STORAGE) ?? '');
  const container = declarationBlock(storage, /^resource auditWitnessContainer '[^']+\/containers@[^']+' =/m);
  if (!container || topLevelEntries(container).get('name') !== 'names.containers.auditWitness')
    problems.push(`${STORAGE}: no witness container named names.containers.auditWitness`);
  const policy = declarationBlock(storage, /^resource auditWitnessPolicy '[^']+\/immutabilityPolicies@[^']+' =[^{]*/m);
  if (!policy) problems.push(`${STORAGE}: no immutabilityPolicies resource for the witness container`);
  else {
    const entries = topLevelEntries(policy);
    if (entries.get('parent') !== 'auditWitnessContainer')
      problems.push(`${STORAGE}: the immutability policy's parent is not the witness container`);
    const properties = topLevelEntries(entries.get('properties') ?? '{}');
    if (properties.get('immutabilityPeriodSinceCreationInDays') !== 'auditWitnessRetentionDays')
      problems.push(
        `${STORAGE}: the retention is ${properties.get('immutabilityPeriodSinceCreationInDays')}, not the auditWitnessRetentionDays parameter`,
      );
    if (properties.get('allowProtectedAppendWrites') !== 'true')
      problems.push(
        `${STORAGE}: allowProtectedAppendWrites is ${properties.get('allowProtectedAppendWrites')}: the day files are append blobs`,
      );
  }
  if (!/^param auditWitnessRetentionDays int = \d+$/m.test(storage))
    problems.push(`${STORAGE}: no auditWitnessRetentionDays int parameter with a default`);
  // Declared unlocked: nothing in the Bicep may lock it (a locked policy cannot be undone).
  if (stringLiterals(storage).some((literal) => literal.toLowerCase() === 'locked'))
    problems.push(`${STORAGE}: the witness policy must be declared unlocked; locking is the operator's step`);
  const roles = withoutComments(sources.files.get(ROLE_ASSIGNMENTS) ?? '');
  const assignment = declarationBlock(roles, /^resource appAuditWitness '[^']+' =/m);
  const entries = assignment ? topLevelEntries(assignment) : new Map<string, string>();
  if (entries.get('scope') !== 'auditWitnessContainer' || !/roles\.storageBlobDataContributor/.test(entries.get('properties') ?? ''))
    problems.push(`${ROLE_ASSIGNMENTS}: the app identity needs Storage Blob Data Contributor scoped to the witness container`);
  return problems;
}

export const CHECKS = {
  checkAuditWitness,
  checkAppSettingNames,
  checkAzureSettings,
  checkNamesSettingsAreParsed,
  checkNoHardCodedEntityNames,
  checkDeliveryCounts,
  checkEntities,
  checkRuntime,
  checkExcludedPaths,
  checkNoSecrets,
  checkAppRoles,
  checkAzureYaml,
  checkModuleWiring,
};

/**
 * The environment the Bicep gives the Function App, as the app would see it: every setting whose
 * value the Bicep fixes (from names.json or a literal), and for those that come from a parameter or
 * another resource, the value `placeholder` makes up for that setting's name.
 */
export function azureEnvironment(sources: DeploymentSources, placeholder: (settingName: string) => string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { name, value } of bicepAppSettings(sources) ?? []) {
    if (typeof name?.value !== 'string') continue;
    env[name.value] = typeof value?.value === 'string' ? value.value : placeholder(name.value);
  }
  return env;
}
