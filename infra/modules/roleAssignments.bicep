// Every Azure role assignment of the deployment, in one place, so what the app may do is read in
// one file. Built-in role definitions by their fixed ids (the same in every tenant), each named.
//
// The app's user-assigned identity gets what the Functions runtime, the Flex Consumption
// deployment and the service need. The deploying principal (azd's AZURE_PRINCIPAL_ID), when
// given, gets data access for debugging and the repository's scripts (`npm run audit:verify`
// against the Azure table, sending a test message): azd itself needs none of it, because it
// deploys the package through the app's deployment endpoint with the deployer's ARM rights.

@description('Principal (object) id of the app\'s user-assigned identity.')
param appPrincipalId string
param storageAccountName string
@description('The blob witness container of audit checkpoints (storage.bicep).')
param auditWitnessContainerName string
param serviceBusNamespaceName string
param keyVaultName string
param applicationInsightsName string

@description('Object id of the person or pipeline running azd; empty for none.')
param deployerPrincipalId string = ''

@allowed(['User', 'ServicePrincipal'])
param deployerPrincipalType string = 'User'

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe' // Storage Blob Data Contributor
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39' // Azure Service Bus Data Sender
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0' // Azure Service Bus Data Receiver
  keyVaultCryptoUser: '12338af0-0e69-4776-bea7-57ae8d297424' // Key Vault Crypto User
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource auditWitnessContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  name: '${storageAccountName}/default/${auditWitnessContainerName}'
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// ---- The app's identity ----------------------------------------------------------------------

// Storage Blob Data Owner: the Functions runtime's blob leases (timers, scale) and the Flex
// Consumption plan reading the app package from the deployment container.
resource appBlob 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appPrincipalId, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Storage Blob Data Contributor on the witness container only: the checkpoint timer appends each
// checkpoint there. (The account-wide Blob Data Owner above already covers it: this assignment
// states the app's need on its own, so it survives if the runtime's role is ever narrowed. Neither
// role can rewrite or delete a blob under the container's locked immutability policy.)
resource appAuditWitness 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(auditWitnessContainer.id, appPrincipalId, roles.storageBlobDataContributor)
  scope: auditWitnessContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Storage Queue Data Contributor: the runtime's own queues (and the storage-queues transport,
// should a deployment choose it).
resource appQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appPrincipalId, roles.storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Storage Table Data Contributor: the directory table (every read and transaction of the service).
resource appTable 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appPrincipalId, roles.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Azure Service Bus Data Sender: change-request messages (re-driver), invalid messages, audit events.
resource appBusSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(serviceBus.id, appPrincipalId, roles.serviceBusDataSender)
  scope: serviceBus
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataSender)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Azure Service Bus Data Receiver: the queue triggers on the change-request queues.
resource appBusReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(serviceBus.id, appPrincipalId, roles.serviceBusDataReceiver)
  scope: serviceBus
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataReceiver)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Key Vault Crypto User: sign audit checkpoints with the vault's key and read its public half.
resource appKeyVault 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, appPrincipalId, roles.keyVaultCryptoUser)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultCryptoUser)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Monitoring Metrics Publisher: send telemetry to Application Insights with Entra ID (local auth is off).
resource appTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, appPrincipalId, roles.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---- The deploying principal (optional) --------------------------------------------------------

var deployerRolesOnStorage = [roles.storageTableDataContributor, roles.storageBlobDataOwner]

// Storage Table Data Contributor, Storage Blob Data Owner: read the directory and audit log
// (`npm run audit:verify`), look at the deployment package.
resource deployerStorage 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in deployerRolesOnStorage: if (!empty(deployerPrincipalId)) {
    name: guid(storage.id, deployerPrincipalId, roleId)
    scope: storage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: deployerPrincipalId
      principalType: deployerPrincipalType
    }
  }
]

// Azure Service Bus Data Sender: put a test change request straight on a queue, as automation does.
resource deployerBusSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(serviceBus.id, deployerPrincipalId, roles.serviceBusDataSender)
  scope: serviceBus
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataSender)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
  }
}
