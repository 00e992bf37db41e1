// Service Bus, the production transport (MESSAGING_TRANSPORT=service-bus): the two change-request
// queues the queue-triggered functions listen on, the queues the adapter sets invalid messages
// aside in, and the audit-events topic with its archive subscription.
//
// Local (SAS) authentication is disabled: no connection string with a key works, the app sends
// and receives as its user-assigned identity (Data Sender / Data Receiver in roleAssignments.bicep).
// A plain resource rather than the Verified Module (avm/res/service-bus/namespace): that module
// always creates a RootManageSharedAccessKey rule and outputs its connection strings and keys
// (listkeys), and this deployment outputs no key of any kind.
//
// Every entity name and the delivery numbers come from shared/names.json.

param name string
param location string
param tags object

var names = loadJsonContent('../../shared/names.json')

// The change-request queues; each also gets `<queue><suffix>` for the messages the service
// refuses as invalid (shared/adapters/serviceBus: it sends them there, it cannot dead-letter a
// message it does not hold under a lock).
var changeRequestQueues = [names.queues.endpointCreate, names.queues.endpointDelete]

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  // Standard: topics and duplicate detection need it (Basic has neither); 256 KB messages.
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource queues 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = [
  for queueName in changeRequestQueues: {
    parent: namespace
    name: queueName
    properties: {
      // Equal to host.json maxDequeueCount and the code's MAX_DELIVERY_COUNT: on the last
      // delivery the function settles the request as failed before Service Bus dead-letters it.
      maxDeliveryCount: names.delivery.maxDeliveryCount
      // Well above the slowest apply (seconds under contention, README "Performance"); the
      // Functions host renews the lock while the function runs (host.json maxAutoLockRenewalDuration).
      lockDuration: names.delivery.lockDuration
      deadLetteringOnMessageExpiration: true
      defaultMessageTimeToLive: 'P14D'
      // A message re-sent with the same id (a retried send) is dropped by the broker. The
      // re-driver's re-sends carry new ids (`<request id>.<send>`), so they are not.
      requiresDuplicateDetection: true
      duplicateDetectionHistoryTimeWindow: 'PT1H'
      requiresSession: false
      enablePartitioning: false
      maxSizeInMegabytes: 1024
    }
  }
]

// Where invalid messages are kept, with their reason, for an operator: no expiry, no trigger.
resource invalidQueues 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = [
  for queueName in changeRequestQueues: {
    parent: namespace
    name: '${queueName}${names.deadLetterSuffixes.serviceBus}'
    properties: {
      deadLetteringOnMessageExpiration: false
      requiresDuplicateDetection: false
      maxSizeInMegabytes: 1024
    }
  }
]

resource auditEvents 'Microsoft.ServiceBus/namespaces/topics@2024-01-01' = {
  parent: namespace
  name: names.topics.auditEvents
  properties: {
    // Events are re-published from the outbox under their original id after a crash: the broker
    // drops the repeat within the window, subscribers drop any later one by id.
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'PT1H'
    defaultMessageTimeToLive: 'P14D'
    maxSizeInMegabytes: 1024
    supportOrdering: true
  }
}

// The archive subscription: every audit event, kept 14 days for a consumer (a SIEM export, say).
resource auditArchive 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2024-01-01' = {
  parent: auditEvents
  name: names.subscriptions.auditArchive
  properties: {
    lockDuration: names.delivery.lockDuration
    deadLetteringOnMessageExpiration: true
    defaultMessageTimeToLive: 'P14D'
  }
}

output name string = namespace.name
// `<namespace>.servicebus.windows.net` (or the sovereign cloud's suffix), from the endpoint
// `https://<namespace>.servicebus.windows.net:443/`: what ServiceBusConnection__fullyQualifiedNamespace takes.
output fullyQualifiedNamespace string = replace(replace(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':443', ''), '/', '')
output queueNames array = [for (queueName, i) in changeRequestQueues: queues[i].name]
output topicName string = auditEvents.name
