// The app's user-assigned managed identity: the one principal the Function App uses for Storage
// (runtime, tables, queues, deployment package), Service Bus, Key Vault and Application Insights.
// User-assigned rather than system-assigned so its roles can be granted before the app exists, and
// so it survives a re-created app. Azure Verified Module (parameters checked against the module's
// main.bicep at version 0.6.0).

@description('Name of the identity.')
param name string
param location string
param tags object

module identity 'br/public:avm/res/managed-identity/user-assigned-identity:0.6.0' = {
  name: 'userAssignedIdentity'
  params: {
    name: name
    location: location
    tags: tags
  }
}

output resourceId string = identity.outputs.resourceId
output principalId string = identity.outputs.principalId
output clientId string = identity.outputs.clientId
