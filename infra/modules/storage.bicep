// The storage account: the Functions runtime's own storage (AzureWebJobsStorage: blob leases for
// timers and scale), the service's directory table, and the blob container the Flex Consumption
// plan deploys the app package from.
//
// Shared-key access is disabled: no account key or SAS works, every caller is an Entra identity
// with a data role (roleAssignments.bicep). A plain resource rather than the Verified Module
// (avm/res/storage/storage-account), because that module outputs the account keys and key-bearing
// connection strings (listKeys), and this deployment outputs no key of any kind.

param name string
param location string
param tags object

@description('Days each audit checkpoint copy in the witness container stays immutable after it is written (2555 = about 7 years). Once the policy is locked it can only be extended.')
@minValue(1)
@maxValue(146000)
param auditWitnessRetentionDays int = 2555

@description('True once an operator has locked the witness container\'s immutability policy (README, "Locking the witness"): the policy is then left as it is rather than declared again.')
param auditWitnessPolicyLocked bool = false

var names = loadJsonContent('../../shared/names.json')

// The container the plan's deployment storage points at (functionApp.bicep); azd uploads the
// package through the app's deployment endpoint and the platform stores it here.
var deploymentContainerName = 'app-package'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

// The blob witness of audit checkpoints (AUDIT_WITNESS_CONTAINER): one append blob per UTC day,
// `checkpoints/YYYY-MM-DD.ndjson`, under a time-based retention (WORM) policy. It is declared
// UNLOCKED: an unlocked policy can still be shortened or deleted by an account administrator, so
// it protects nothing until an operator locks it (README, "Locking the witness"). Protected append
// writes let the app append a day's later checkpoints to its blob; no block, once written, can be
// changed or deleted, and no blob deleted, until its retention ends.
resource auditWitnessContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: names.containers.auditWitness
  properties: {
    publicAccess: 'None'
  }
}

resource auditWitnessPolicy 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2023-05-01' = if (!auditWitnessPolicyLocked) {
  parent: auditWitnessContainer
  name: 'default'
  properties: {
    immutabilityPeriodSinceCreationInDays: auditWitnessRetentionDays
    allowProtectedAppendWrites: true
  }
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
}

// The directory: one partition per deployment (DIRECTORY_PARTITION), every row of the service.
resource directoryTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = {
  parent: tableService
  name: names.tables.directory
}

output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output deploymentContainerName string = deploymentContainer.name
output directoryTableName string = directoryTable.name
output auditWitnessContainerName string = auditWitnessContainer.name
