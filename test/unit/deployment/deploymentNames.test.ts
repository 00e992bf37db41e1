import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSettings } from '../../../shared/settings';
import { anonymousRoutes, azureEnvironment, CHECKS, readDeploymentSources, type DeploymentSources } from './deploymentChecks';

/**
 * One source of names (issue 10, item 3): the Bicep, azure.yaml, host.json and the code's settings
 * agree with shared/names.json. Every check runs on the repository and must find nothing; then on
 * an altered copy of the sources (in memory, one file or one fact of the code changed) and must name
 * the file and the value that disagrees, which shows the check can fail.
 */

const repository = readDeploymentSources();

/** A copy of the sources with `find` replaced by `replace` in `file`; throws if `find` is not there, so an alteration can't silently do nothing. */
function altered(file: string, find: string | RegExp, replace: string, base: DeploymentSources = repository): DeploymentSources {
  const original = base.files.get(file);
  assert.ok(original !== undefined, `${file} is among the sources`);
  const changed = original.replace(find, replace);
  assert.notEqual(changed, original, `the alteration of ${file} found ${String(find)}`);
  return { files: new Map(base.files).set(file, changed), code: base.code };
}

/** A copy of the sources with some facts of the code changed. */
function withCode(code: Partial<DeploymentSources['code']>): DeploymentSources {
  return { files: repository.files, code: { ...repository.code, ...code } };
}

/** Asserts that `problems` has one naming both the file and the value. */
function assertNames(problems: string[], file: string, value: string): void {
  assert.ok(
    problems.some((problem) => problem.startsWith(`${file}:`) && problem.includes(value)),
    `expected a problem naming ${file} and ${value}, got ${JSON.stringify(problems)}`,
  );
}

describe('deployment names: the repository agrees with shared/names.json', () => {
  for (const [name, check] of Object.entries(CHECKS)) {
    it(`${name} finds nothing`, () => {
      assert.deepEqual(check(repository), []);
    });
  }
});

describe('deployment settings: what the Bicep sets is what the app parses', () => {
  const CLIENT_ID = '8c7f1b9e-2d4a-4c51-9e0f-3a6b5d7c9e21';
  /** Stand-ins for the values Bicep takes from parameters and other resources, by the shape Azure gives them. */
  const placeholder = (setting: string): string => {
    if (setting.endsWith('__accountName')) return 'stabc123def456';
    if (setting.endsWith('__blobServiceUri')) return 'https://stabc123def456.blob.core.windows.net/';
    if (setting === 'AUDIT_WITNESS_CONTAINER') return 'audit-checkpoints';
    if (setting.endsWith('__fullyQualifiedNamespace')) return 'sb-abc123def456.servicebus.windows.net';
    if (setting.endsWith('__clientId') || setting === 'AZURE_CLIENT_ID') return CLIENT_ID;
    if (setting === 'AUDIT_SIGNING_KEY_VAULT_KEY_ID') return 'https://kv-abc123def456.vault.azure.net/keys/audit-signing';
    if (setting === 'APPLICATIONINSIGHTS_CONNECTION_STRING')
      return 'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/';
    if (setting === 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING') return `Authorization=AAD;ClientId=${CLIENT_ID}`;
    throw new Error(`no placeholder for ${setting}: say what Azure gives it`);
  };

  it('parses into identity-based Storage and Service Bus, the Service Bus transport, App Service authentication and Key Vault signing', () => {
    // WEBSITE_INSTANCE_ID: App Service sets it on every instance.
    const settings = parseSettings({ ...azureEnvironment(repository, placeholder), WEBSITE_INSTANCE_ID: 'instance-1' });

    assert.deepEqual(
      {
        storage: settings.storage,
        serviceBus: settings.serviceBus,
        transport: settings.transport,
        queues: settings.queues,
        table: settings.table,
        auth: settings.auth.mode,
        keyVaultKey: settings.auditSigningKeyVaultKeyId,
        pemKey: settings.auditSigningKey,
      },
      {
        storage: {
          kind: 'identity',
          credential: 'managedidentity',
          clientId: CLIENT_ID,
          tableServiceUri: 'https://stabc123def456.table.core.windows.net',
          queueServiceUri: 'https://stabc123def456.queue.core.windows.net',
          blobServiceUri: 'https://stabc123def456.blob.core.windows.net',
        },
        serviceBus: {
          kind: 'identity',
          credential: 'managedidentity',
          clientId: CLIENT_ID,
          fullyQualifiedNamespace: 'sb-abc123def456.servicebus.windows.net',
        },
        transport: 'service-bus',
        queues: { endpointCreate: 'endpoint-create', endpointDelete: 'endpoint-delete', auditEvents: 'audit-events' },
        table: 'directory',
        auth: 'easyauth',
        keyVaultKey: 'https://kv-abc123def456.vault.azure.net/keys/audit-signing',
        pemKey: undefined,
      },
    );
  });
});

describe('deployment names: each check fails on a disagreeing copy', () => {
  const FUNCTION_APP = 'infra/modules/functionApp.bicep';
  const SERVICE_BUS = 'infra/modules/serviceBus.bicep';

  it('an app setting named by a literal instead of names.json', () => {
    const problems = CHECKS.checkAppSettingNames(altered(FUNCTION_APP, 'name: names.appSettings.authMode', "name: 'AUTH_MODE'"));
    assertNames(problems, FUNCTION_APP, "'AUTH_MODE' is not taken from shared/names.json");
  });

  it('an app setting the code does not read', () => {
    const sources = altered('shared/names.json', '"directoryTable": "DIRECTORY_TABLE"', '"directoryTable": "DIRECTORY_TABLE_NAME"');
    assertNames(CHECKS.checkAppSettingNames(sources), FUNCTION_APP, 'DIRECTORY_TABLE_NAME is not a setting the service reads');
    assertNames(CHECKS.checkNamesSettingsAreParsed(sources), 'shared/names.json', 'DIRECTORY_TABLE_NAME');
  });

  it('a names.json setting the settings schema does not parse', () => {
    const sources = withCode({ settingNames: repository.code.settingNames.filter((name) => name !== 'REDRIVE_SCHEDULE') });
    assertNames(CHECKS.checkNamesSettingsAreParsed(sources), 'shared/names.json', 'appSettings.redriveSchedule = REDRIVE_SCHEDULE');
  });

  it('a key-based connection setting, a wrong auth mode, a queue setting off names.json', () => {
    let sources = altered(FUNCTION_APP, "name: '${storageConnection}${suffix.accountName}'", 'name: storageConnection');
    sources = altered(FUNCTION_APP, "value: 'easyauth'", "value: 'keys'", sources);
    sources = altered(FUNCTION_APP, 'value: names.queues.endpointCreate', "value: 'endpoint-create-2'", sources);
    const problems = CHECKS.checkAzureSettings(sources);
    assertNames(problems, FUNCTION_APP, 'sets AzureWebJobsStorage, a connection string');
    assertNames(problems, FUNCTION_APP, 'does not set AzureWebJobsStorage__accountName');
    assertNames(problems, FUNCTION_APP, "AUTH_MODE is 'keys'");
    assertNames(problems, FUNCTION_APP, "ENDPOINT_CREATE_QUEUE is 'endpoint-create-2'");
  });

  it('a queue, topic or table name written out in Bicep', () => {
    const sources = altered(SERVICE_BUS, 'name: names.topics.auditEvents', "name: 'audit-events'");
    assertNames(CHECKS.checkNoHardCodedEntityNames(sources), SERVICE_BUS, "'audit-events'");
    const invalid = altered(SERVICE_BUS, "name: '${queueName}${names.deadLetterSuffixes.serviceBus}'", "name: 'endpoint-create-invalid'");
    assertNames(CHECKS.checkNoHardCodedEntityNames(invalid), SERVICE_BUS, "'endpoint-create-invalid'");
    assertNames(CHECKS.checkEntities(invalid), SERVICE_BUS, 'invalid-message queues');
  });

  it('maxDeliveryCount disagreeing in host.json, the code, or the Service Bus queues', () => {
    const host = altered('host.json', '"maxDequeueCount": 5', '"maxDequeueCount": 6');
    assertNames(CHECKS.checkDeliveryCounts(host), 'host.json', 'maxDequeueCount is 6');
    assertNames(
      CHECKS.checkDeliveryCounts(withCode({ defaultMaxDeliveries: 7 })),
      'shared/settings.ts',
      'MAX_DELIVERY_COUNT defaults to 7',
    );
    assertNames(
      CHECKS.checkDeliveryCounts(withCode({ policyMaxDeliveries: 8 })),
      'shared/application/deliveryPolicy.ts',
      'maxDeliveries is 8',
    );
    // The same number, written out: it must come from names.json.
    const literal = altered(SERVICE_BUS, 'maxDeliveryCount: names.delivery.maxDeliveryCount', 'maxDeliveryCount: 5');
    assertNames(CHECKS.checkDeliveryCounts(literal), SERVICE_BUS, 'queue maxDeliveryCount is 5');
    const noDuplicates = altered(SERVICE_BUS, /requiresDuplicateDetection: true/, 'requiresDuplicateDetection: false');
    assertNames(CHECKS.checkDeliveryCounts(noDuplicates), SERVICE_BUS, 'requiresDuplicateDetection is false');
  });

  it('a dead-letter suffix the adapter does not use, a subscription named off names.json', () => {
    assertNames(
      CHECKS.checkEntities(withCode({ deadLetterSuffixes: { storageQueues: '-poison', serviceBus: '-dlq' } })),
      'shared/names.json',
      '-dlq',
    );
    const subscription = altered(SERVICE_BUS, 'name: names.subscriptions.auditArchive', 'name: names.topics.auditEvents');
    assertNames(CHECKS.checkEntities(subscription), SERVICE_BUS, 'archive subscription is named names.topics.auditEvents');
  });

  it('a witness policy that is locked, has a fixed retention or refuses appends; a role scoped elsewhere', () => {
    const storage = 'infra/modules/storage.bicep';
    assertNames(
      CHECKS.checkAuditWitness(
        altered(storage, 'immutabilityPeriodSinceCreationInDays: auditWitnessRetentionDays', 'immutabilityPeriodSinceCreationInDays: 365'),
      ),
      storage,
      'the retention is 365',
    );
    assertNames(
      CHECKS.checkAuditWitness(altered(storage, 'allowProtectedAppendWrites: true', 'allowProtectedAppendWrites: false')),
      storage,
      'allowProtectedAppendWrites is false',
    );
    assertNames(
      CHECKS.checkAuditWitness(
        altered(
          storage,
          "name: 'default'\n  properties: {\n    immutabilityPeriodSinceCreationInDays",
          "name: 'default'\n  properties: {\n    state: 'Locked'\n    immutabilityPeriodSinceCreationInDays",
        ),
      ),
      storage,
      'declared unlocked',
    );
    const roles = 'infra/modules/roleAssignments.bicep';
    assertNames(
      CHECKS.checkAuditWitness(altered(roles, /scope: auditWitnessContainer/, 'scope: storage')),
      roles,
      'Storage Blob Data Contributor',
    );
  });

  it('a runtime other than Node 22', () => {
    assertNames(CHECKS.checkRuntime(altered(FUNCTION_APP, "version: '22'", "version: '20'")), FUNCTION_APP, "'node' '20'");
  });

  it('an anonymous route missing from excludedPaths, or a protected one in it', () => {
    const missing = altered(FUNCTION_APP, "  '/api/review'\n", '');
    assertNames(CHECKS.checkExcludedPaths(missing), FUNCTION_APP, 'does not cover the anonymous route /api/review');
    const opened = altered(FUNCTION_APP, "  '/api/review'\n", "  '/api/review'\n  '/api/audit'\n");
    assertNames(CHECKS.checkExcludedPaths(opened), FUNCTION_APP, '/api/audit covers /api/audit');
    const redirect = altered(
      FUNCTION_APP,
      "unauthenticatedClientAction: 'Return401'",
      "unauthenticatedClientAction: 'RedirectToLoginPage'",
    );
    assertNames(CHECKS.checkExcludedPaths(redirect), FUNCTION_APP, 'RedirectToLoginPage');
  });

  it('a new function without a role requirement must be listed', () => {
    const files = new Map(repository.files).set(
      'functions/metrics.ts',
      "app.http('metrics', { methods: ['GET'], route: 'metrics', authLevel: 'anonymous', handler: metrics });",
    );
    const sources = { files, code: repository.code };
    assert.ok(anonymousRoutes(sources).anonymous.includes('/api/metrics'));
    assertNames(CHECKS.checkExcludedPaths(sources), FUNCTION_APP, '/api/metrics');
  });

  it('a key, a key-bearing connection string or a secure parameter in any Bicep file', () => {
    const STORAGE = 'infra/modules/storage.bicep';
    const keys = altered(
      STORAGE,
      /$/,
      "\noutput key string = account.listKeys().keys[0].value\noutput storageConnectionString string = 'AccountKey=x'\n",
    );
    const problems = CHECKS.checkNoSecrets(keys);
    assertNames(problems, STORAGE, 'listKeys(');
    assertNames(problems, STORAGE, 'AccountKey=');
    assertNames(problems, STORAGE, 'output storageConnectionString');
    assertNames(
      CHECKS.checkNoSecrets(altered(SERVICE_BUS, /$/, "\n@secure()\nparam sas string\nvar rule = 'SharedAccessKey'\n")),
      SERVICE_BUS,
      'SharedAccessKey',
    );
  });

  it('app roles other than the code\u2019s', () => {
    const APP_REGISTRATION = 'infra/modules/appRegistration.bicep';
    assertNames(CHECKS.checkAppRoles(altered(APP_REGISTRATION, "value: 'auditor'", "value: 'auditors'")), APP_REGISTRATION, 'auditors');
  });

  it('azure.yaml without the function service or the infra path', () => {
    assertNames(CHECKS.checkAzureYaml(altered('azure.yaml', 'host: function', 'host: appservice')), 'azure.yaml', 'host is appservice');
    assertNames(CHECKS.checkAzureYaml(altered('azure.yaml', 'path: infra', 'path: deploy')), 'azure.yaml', 'infra path');
  });

  it('main.bicep passing a module a parameter it does not declare, or reading a missing output', () => {
    const renamed = altered(
      'infra/main.bicep',
      'storageBlobEndpoint: storage.outputs.blobEndpoint',
      'blobEndpoint: storage.outputs.blobUri',
    );
    const problems = CHECKS.checkModuleWiring(renamed);
    assertNames(problems, 'infra/main.bicep', 'passes blobEndpoint');
    assertNames(problems, 'infra/main.bicep', 'does not pass storageBlobEndpoint');
    assertNames(problems, 'infra/main.bicep', 'storage.outputs.blobUri');
  });
});
