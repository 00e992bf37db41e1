import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceBusClient } from '@azure/service-bus';
import { CloudEvent as SdkCloudEvent, HTTP } from 'cloudevents';
import { InMemoryMessageBus } from '../../shared/adapters/memory/InMemoryMessageBus';
import { createServiceBusMessageBus } from '../../shared/adapters/serviceBus/ServiceBusMessageBus';
import { ServiceBusRules } from '../../shared/adapters/transportRules';
import { uuidv7 } from '../../shared/adapters/system';
import { applyChangeRequest } from '../../shared/application/changeRequests/applyChangeRequest';
import { cancelChangeRequest } from '../../shared/application/changeRequests/cancelChangeRequest';
import { failChangeRequest } from '../../shared/application/changeRequests/failChangeRequest';
import { recordInvalidMessage } from '../../shared/application/changeRequests/recordInvalidMessage';
import { submitChangeRequest } from '../../shared/application/changeRequests/submitChangeRequest';
import { CLOUD_EVENT_CONTENT_TYPE, type CloudEvent } from '../../shared/application/events';
import { redrive } from '../../shared/application/redrive';
import { Destination, type OutgoingMessage } from '../../shared/application/ports/messageBus';
import {
  addDirectoryUser,
  addSipDomain,
  registerPool,
  removeDirectoryUser,
  removeSipDomain,
  retirePool,
} from '../../shared/application/topology';
import { AuditAction } from '../../shared/domain/audit';
import { FailureCode } from '../../shared/domain/codes';
import { ConflictError } from '../../shared/domain/errors';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { fqdn, sip } from '../support/builders';
import { startFakeServiceBusBroker, type FakeServiceBusBroker } from '../support/fakeServiceBusBroker';
import { newStoreHarness, type StoreHarness } from '../support/storeHarness';
const admin = { actor: 'admin@contoso.com', correlationId: 'corr-topology' };

/** The structured event parsed by the CloudEvents SDK, which throws unless it validates. */
function parsedBySdk(message: OutgoingMessage): SdkCloudEvent<unknown> {
  const event = HTTP.toEvent({
    headers: { 'content-type': message.contentType },
    body: JSON.stringify(message.body),
  }) as SdkCloudEvent<unknown>;
  assert.equal(event.validate(), true);
  return event;
}

/** The event rebuilt from the AMQP binding's `cloudEvents:` application properties alone, validated by the SDK. */
function fromApplicationProperties(properties: Record<string, unknown>, data: unknown): SdkCloudEvent<unknown> {
  const attributes = Object.fromEntries(
    Object.entries(properties)
      .filter(([name]) => name.startsWith('cloudEvents:'))
      .map(([name, value]) => [name.slice('cloudEvents:'.length), value]),
  );
  const event = new SdkCloudEvent({ ...attributes, data } as never);
  assert.equal(event.validate(), true);
  return event;
}

describe('events are valid CloudEvents 1.0 (checked with the cloudevents SDK)', () => {
  let azurite: TestAzurite;
  let broker: FakeServiceBusBroker;
  let deps: StoreHarness;

  before(async () => {
    [azurite, broker] = await Promise.all([startTestAzurite(), startFakeServiceBusBroker()]);
    // Events go on to Service Bus below, so the fake bus keeps Service Bus's rules.
    deps = {
      ...(await newStoreHarness(azurite.connectionString)),
      bus: new InMemoryMessageBus(ServiceBusRules),
      eventSource: '/pchat-endpoints/default',
    };
  });
  after(async () => {
    await Promise.all([azurite?.stop(), broker?.close()]);
  });

  it('every event type the service emits parses and validates, structured and as AMQP properties', async () => {
    const queued = (request: Parameters<typeof applyChangeRequest>[1]['request']) =>
      applyChangeRequest(deps, { changeRequestId: uuidv7(), request, actor: 'bot', correlationId: uuidv7(), channel: 'queue' });
    await addSipDomain(deps, admin, fqdn('contoso.com'));
    await addSipDomain(deps, admin, fqdn('fabrikam.com'));
    await removeSipDomain(deps, admin, fqdn('fabrikam.com'));
    await registerPool(deps, admin, fqdn('pool1.contoso.com'), sip('sip:default1@contoso.com'));
    await registerPool(deps, admin, fqdn('pool2.contoso.com'), sip('sip:default2@contoso.com'));
    await retirePool(deps, admin, fqdn('pool2.contoso.com'));
    await addDirectoryUser(deps, admin, sip('sip:ocschat@contoso.com'), 'Group Chat');
    await removeDirectoryUser(deps, admin, sip('sip:ocschat@contoso.com'));
    await queued({ operation: 'create', sipAddress: sip('sip:chat@contoso.com'), poolFqdn: fqdn('pool1.contoso.com') });
    await queued({ operation: 'create', sipAddress: sip('sip:chat@contoso.com'), poolFqdn: fqdn('pool1.contoso.com') });
    await queued({ operation: 'delete', sipAddress: sip('sip:chat@contoso.com') });
    await queued({ operation: 'delete', sipAddress: sip('sip:chat@contoso.com') });
    const id = uuidv7();
    await recordInvalidMessage(deps, {
      changeRequestId: id,
      subject: 'queue:endpoint-create',
      actor: 'queue:endpoint-create',
      correlationId: id,
      errors: [{ pointer: '#/sipAddress', detail: 'sipAddress is invalid', location: 'message' }],
    });
    const { changeRequest } = await submitChangeRequest(deps, {
      request: { operation: 'delete', sipAddress: sip('sip:gone@contoso.com') },
      actor: 'alice',
      correlationId: 'corr-fail',
    });
    await failChangeRequest(deps, changeRequest.id, { code: FailureCode.processingFailed, message: 'simulated' });
    const { changeRequest: withdrawn } = await submitChangeRequest(deps, {
      request: { operation: 'delete', sipAddress: sip('sip:withdrawn@contoso.com') },
      actor: 'alice',
      correlationId: 'corr-cancel',
    });
    await cancelChangeRequest(deps, withdrawn.id, { name: 'alice', ownOnly: true });
    // Topology changes refused by a rule (409) are audited and announced too.
    await queued({ operation: 'create', sipAddress: sip('sip:kept@contoso.com'), poolFqdn: fqdn('pool1.contoso.com') });
    const refusals = [
      () => removeSipDomain(deps, admin, fqdn('contoso.com')),
      () => registerPool(deps, admin, fqdn('pool1.contoso.com'), sip('sip:other@contoso.com')),
      () => retirePool(deps, admin, fqdn('pool1.contoso.com')),
      () => addDirectoryUser(deps, admin, sip('sip:kept@contoso.com'), null),
    ];
    for (const refuse of refusals) await assert.rejects(refuse(), ConflictError);
    // And so is a waiting-list entry the re-driver cannot read and takes out.
    const earlier = new Date(Date.now() - 1000).toISOString();
    await deps.table.createEntity({
      partitionKey: 'default',
      rowKey: 'pending|contoso.com|x|000000000000001',
      data: '?',
      redriveAt: earlier,
    });
    await redrive(deps);

    const messages = deps.bus.sent.filter((sent) => sent.destination === Destination.auditEvents).map((sent) => sent.message);
    assert.deepEqual(
      new Set(messages.map((m) => (m.body as CloudEvent).type)),
      new Set(Object.values(AuditAction).map((action) => `pchat.${action}.v1`)),
      'every event type',
    );
    for (const message of messages) {
      const body = message.body as CloudEvent;
      const structured = parsedBySdk(message);
      assert.equal(message.contentType, CLOUD_EVENT_CONTENT_TYPE);
      assert.deepEqual(
        [structured.specversion, structured.id, structured.source, structured.type, structured.subject, structured.time],
        ['1.0', body.id, '/pchat-endpoints/default', body.type, body.subject, body.time],
      );
      assert.deepEqual(structured.data, body.data);
      assert.equal(structured['correlationid'], body.correlationid);
      assert.equal(structured['sequence'], body.sequence);
      assert.equal(message.messageId, body.id, 'messageId = event id');

      const fromProperties = fromApplicationProperties(message.properties ?? {}, body.data);
      assert.deepEqual(fromProperties.toJSON(), structured.toJSON());
    }
  });

  it('on Service Bus the event arrives with messageId = event id and cloudEvents: properties the SDK accepts', async () => {
    const client = new ServiceBusClient(broker.connectionString, { retryOptions: { maxRetries: 0, timeoutInMs: 5000 } });
    const serviceBus = createServiceBusMessageBus(client, {
      endpointCreate: 'endpoint-create',
      endpointDelete: 'endpoint-delete',
      auditEvents: 'audit-events',
    });
    try {
      const [message] = deps.bus.sent.filter((sent) => sent.destination === Destination.auditEvents).map((sent) => sent.message);
      assert.ok(message);
      await serviceBus.send(Destination.auditEvents, message);
      const [received] = broker.received('audit-events');
      assert.equal(received?.messageId, (message.body as CloudEvent).id);
      const fromProperties = fromApplicationProperties(received?.applicationProperties ?? {}, (received?.body as CloudEvent).data);
      assert.deepEqual(fromProperties.toJSON(), parsedBySdk(message).toJSON());
    } finally {
      await serviceBus.close();
      await client.close();
    }
  });
});
