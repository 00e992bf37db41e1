import { app } from '@azure/functions';
import { bindQueue } from '../shared/composition/functionBindings';
import { endpointChangeQueue } from '../shared/entrypoints/queue/endpointChangeMessages';
import { ConnectionSetting, parseRegistrationSettings, Transport } from '../shared/settings';

const { transport, queues } = parseRegistrationSettings();

/** Applies one endpoint-delete change request from its queue (Storage queue or Service Bus, per configuration). */
export const applyEndpointDelete = bindQueue(endpointChangeQueue('delete', queues.endpointDelete));

if (transport === Transport.serviceBus) {
  app.serviceBusQueue('applyEndpointDelete', {
    queueName: queues.endpointDelete,
    connection: ConnectionSetting.serviceBus,
    handler: applyEndpointDelete,
  });
} else {
  app.storageQueue('applyEndpointDelete', {
    queueName: queues.endpointDelete,
    connection: ConnectionSetting.storage,
    handler: applyEndpointDelete,
  });
}
