import { app, type InvocationContext } from '@azure/functions';
import { ConnectionSetting, parseRegistrationSettings, Transport } from '../shared/settings';
import { handleEndpointChangeMessage, messageMetadataOf } from '../shared/entrypoints/queueMessages';

const { transport, queues } = parseRegistrationSettings();

/** Applies one endpoint-delete change request from its queue (Storage queue or Service Bus, per configuration). */
export async function applyEndpointDelete(message: unknown, context: InvocationContext): Promise<void> {
  const outcome = await handleEndpointChangeMessage('delete', message, messageMetadataOf(context.triggerMetadata, queues.endpointDelete, context.invocationId));
  context.log('endpoint delete settled', outcome);
}

if (transport === Transport.serviceBus) {
  app.serviceBusQueue('applyEndpointDelete', { queueName: queues.endpointDelete, connection: ConnectionSetting.serviceBus, handler: applyEndpointDelete });
} else {
  app.storageQueue('applyEndpointDelete', { queueName: queues.endpointDelete, connection: ConnectionSetting.storage, handler: applyEndpointDelete });
}
