import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadFunctionApp, triggerOf } from '../../shared/local/functionsRegistry';
import names from '../../shared/names.json';
import { APP_ROOT } from '../support/localHost';

/** The queue-triggered functions' trigger type, queue and connection setting, as each transport should register them. */
const queueTriggersOn = (type: 'queueTrigger' | 'serviceBusTrigger', connection: string) => [
  [type, names.queues.endpointCreate, connection],
  [type, names.queues.endpointDelete, connection],
];

describe('loadFunctionApp', () => {
  it('learns every route, queue and timer trigger from functions/ itself (the pinned @azure/functions internals still hold)', () => {
    process.env.AzureWebJobsStorage ??= 'UseDevelopmentStorage=true';

    const registrations = loadFunctionApp(APP_ROOT);

    const summary = registrations
      .map((r) => {
        const trigger = triggerOf(r);
        if (trigger.type === 'httpTrigger') return `${r.name} ${trigger.methods?.join(',')} ${trigger.route}`;
        return `${r.name} ${trigger.type} ${trigger.queueName ?? String(trigger.schedule)}`;
      })
      .sort();
    assert.deepEqual(summary, [
      'advanceAuditVerifications timerTrigger */15 * * * * *',
      'apiDocs GET docs',
      'apiDocsAsset GET docs/{asset}',
      'applyEndpointCreate queueTrigger endpoint-create',
      'applyEndpointDelete queueTrigger endpoint-delete',
      'auditTimeline GET audit/timeline',
      'cancelChangeRequest POST change-requests/{id}/cancel',
      'changeDirectoryUser PUT,DELETE topology/users/{sipAddress}',
      'changePool PUT,DELETE topology/pools/{fqdn}',
      'changeSipDomain PUT,DELETE topology/sip-domains/{domain}',
      'checkpointAuditLog timerTrigger 0 */5 * * * *',
      'getAuditVerification GET audit/verifications/{id}',
      'getChangeRequest GET change-requests/{id}',
      'getEndpoint GET endpoints/{identity}',
      'getTopology GET topology',
      'health GET health',
      'healthReady GET health/ready',
      'listAuditCheckpoints GET audit/checkpoints',
      'listAuditRecords GET audit',
      'listChangeRequests GET change-requests',
      'listEndpoints GET endpoints',
      'listSigningKeys GET audit/signing-keys',
      'openApiDocument GET openapi.json',
      'problemPage GET problems/{code}',
      'redrive timerTrigger */10 * * * * *',
      'reviewPage GET review',
      'startAuditVerification POST audit/verifications',
      'submitChangeRequest POST change-requests',
      'verifyAuditLog GET audit/verify',
    ]);
    assert.ok(registrations.every((r) => typeof r.handler === 'function'));
    // Storage queues by default (the local run): queue names and the connection setting from names.json.
    const queueTriggers = registrations.map((r) => triggerOf(r)).filter((t) => t.type === 'queueTrigger');
    assert.deepEqual(
      queueTriggers.map((t) => [t.type, t.queueName, t.connection]),
      queueTriggersOn('queueTrigger', names.connections.storage),
    );
  });

  it('binds the same queue functions to Service Bus when MESSAGING_TRANSPORT is service-bus, and the local host says it cannot drive them', () => {
    // A fresh process: registrations are learned once per process, at load.
    const registry = path.join(APP_ROOT, 'dist', 'shared', 'local', 'functionsRegistry.js');
    const host = path.join(APP_ROOT, 'dist', 'shared', 'local', 'LocalFunctionsHost.js');
    const script = `
      const { loadFunctionApp, triggerOf } = require(${JSON.stringify(registry)});
      const { LocalFunctionsHost } = require(${JSON.stringify(host)});
      const registrations = loadFunctionApp(${JSON.stringify(APP_ROOT)});
      const queues = registrations.map((r) => triggerOf(r)).filter((t) => t.type === 'queueTrigger' || t.type === 'serviceBusTrigger').map((t) => [t.type, t.queueName, t.connection]);
      const settings = { routePrefix: 'api', queues: { batchSize: 1, newBatchThreshold: 0, maxDequeueCount: 5, visibilityTimeoutMs: 0, maxPollingIntervalMs: 100, messageEncoding: 'base64' } };
      const queueServiceFor = () => { throw new Error('start() refuses before any queue is polled'); };
      new LocalFunctionsHost({ registrations, settings, setting: () => undefined, queueServiceFor, port: 0 }).start()
        .then(() => console.log(JSON.stringify({ queues, refused: null })), (error) => console.log(JSON.stringify({ queues, refused: error.message })));
    `;
    const env = {
      ...process.env,
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      [names.transport.setting]: names.transport.azure,
      [names.connections.serviceBus]: 'Endpoint=sb://example.invalid/;SharedAccessKeyName=k;SharedAccessKey=v',
    };

    const output = JSON.parse(execFileSync(process.execPath, ['-e', script], { env, encoding: 'utf8' }).trim().split('\n').pop() as string);

    assert.deepEqual(output.queues, queueTriggersOn('serviceBusTrigger', names.connections.serviceBus));
    assert.match(output.refused, /runs HTTP, Storage-queue and timer triggers, not serviceBusTrigger/);
  });
});
