import { app } from '@azure/functions';
import { bindQueue } from '../shared/composition/functionBindings';
import { endpointChangeQueue } from '../shared/entrypoints/queue/endpointChangeMessages';
import { ConnectionSetting, parseRegistrationSettings, Transport } from '../shared/settings';

const { transport, queues } = parseRegistrationSettings();

/** Applies one endpoint-create change request from its queue (Storage queue or Service Bus, per configuration). */
export const applyEndpointCreate = bindQueue(endpointChangeQueue('create', queues.endpointCreate));

if (transport === Transport.serviceBus) {
  app.serviceBusQueue('applyEndpointCreate', {
    queueName: queues.endpointCreate,
    connection: ConnectionSetting.serviceBus,
    handler: applyEndpointCreate,
  });
} else {
  app.storageQueue('applyEndpointCreate', {
    queueName: queues.endpointCreate,
    connection: ConnectionSetting.storage,
    handler: applyEndpointCreate,
  });
}
