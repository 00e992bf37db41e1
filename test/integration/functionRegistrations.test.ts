import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadFunctionApp, triggerOf } from '../../shared/local/functionsRegistry';
import { APP_ROOT } from '../support/localHost';

describe('loadFunctionApp', () => {
  it('learns every route and queue trigger from functions/ itself (the pinned @azure/functions internals still hold)', () => {
    process.env.AzureWebJobsStorage ??= 'UseDevelopmentStorage=true';

    const registrations = loadFunctionApp(APP_ROOT);

    const summary = registrations.map((r) => {
      const trigger = triggerOf(r);
      return trigger.type === 'httpTrigger' ? `${r.name} ${trigger.methods?.join(',')} ${trigger.route}` : `${r.name} ${trigger.type} ${trigger.queueName}`;
    }).sort();
    assert.deepEqual(summary, [
      'applyEndpointCreate queueTrigger endpoint-create',
      'applyEndpointDelete queueTrigger endpoint-delete',
      'changeDirectoryUser PUT,DELETE topology/users/{sipAddress}',
      'changePool PUT,DELETE topology/pools/{fqdn}',
      'changeSipDomain PUT,DELETE topology/sip-domains/{domain}',
      'getChangeRequest GET change-requests/{id}',
      'getEndpoint GET endpoints/{sipAddress}',
      'getTopology GET topology',
      'listAuditRecords GET audit',
      'listEndpoints GET endpoints',
      'submitChangeRequest POST change-requests',
    ]);
    assert.ok(registrations.every((r) => typeof r.handler === 'function'));
  });
});
