import { app, type InvocationContext } from '@azure/functions';
import { ConnectionSetting, parseRegistrationSettings, Transport } from '../shared/settings';
import { handleEndpointChangeMessage, messageMetadataOf } from '../shared/entrypoints/queueMessages';

const { transport, queues } = parseRegistrationSettings();

/** Applies one endpoint-create change request from its queue (Storage queue or Service Bus, per configuration). */
export async function applyEndpointCreate(message: unknown, context: InvocationContext): Promise<void> {
  const outcome = await handleEndpointChangeMessage('create', message, messageMetadataOf(context.triggerMetadata, queues.endpointCreate, context.invocationId));
  context.log('endpoint create settled', outcome);
}

if (transport === Transport.serviceBus) {
  app.serviceBusQueue('applyEndpointCreate', { queueName: queues.endpointCreate, connection: ConnectionSetting.serviceBus, handler: applyEndpointCreate });
} else {
  app.storageQueue('applyEndpointCreate', { queueName: queues.endpointCreate, connection: ConnectionSetting.storage, handler: applyEndpointCreate });
}
