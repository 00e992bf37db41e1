// The deployment of the Persistent Chat endpoint change-request service, in the azd layout:
// `azd up` provisions this file (subscription scope: it creates the resource group), then deploys
// the `api` service of azure.yaml to the Function App it outputs.
//
// One module per concern under modules/ (see infra/README.md). Every queue, topic, subscription,
// table and app-setting name comes from shared/names.json, the file the code imports too;
// test/unit/deployment/ fails when the two disagree. No key, connection string or secret is a
// parameter, a setting or an output: every connection is the app's user-assigned identity.
//
// Not compiled here (no Bicep CLI on the build machine): see infra/README.md.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; with the subscription and location it seeds the unique suffix of every resource name.')
param environmentName string

@minLength(1)
@description('Region of every resource. It must offer the Flex Consumption plan (az functionapp list-flexconsumption-locations).')
@metadata({ azd: { type: 'location' } })
param location string

@description('Object id of the person (or pipeline) running azd, given data access for debugging and scripts; empty for none.')
param principalId string = ''

@allowed(['User', 'ServicePrincipal'])
@description('Whether principalId is a user or a service principal (a pipeline).')
param principalType string = 'User'

@description('Purge protection on the Key Vault holding the audit signing key: on for production (the key can then not be purged for 7 days after deletion, and `azd down --purge` leaves the vault soft-deleted); off by default for short-lived environments.')
param keyVaultPurgeProtection bool = false

@description('Days each audit checkpoint copy in the witness container stays immutable (2555 = about 7 years).')
param auditWitnessRetentionDays int = 2555

@description('Set true once the witness container\'s immutability policy is locked (README, "Locking the witness").')
param auditWitnessPolicyLocked bool = false

@description('Public keys of retired checkpoint signing keys (AUDIT_VERIFY_KEYS): PEM public keys, newlines written as \\n, or a JWK set; empty for none (README, "Rotating the audit signing key").')
param auditVerifyKeys string = ''

// A short, stable suffix per subscription, environment and region, as azd templates do.
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var functionAppName = 'func-api-${resourceToken}'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-api-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    auditWitnessRetentionDays: auditWitnessRetentionDays
    auditWitnessPolicyLocked: auditWitnessPolicyLocked
  }
}

module serviceBus 'modules/serviceBus.bicep' = {
  name: 'serviceBus'
  scope: rg
  params: {
    name: 'sb-${resourceToken}'
    location: location
    tags: tags
  }
}

module keyVault 'modules/keyVault.bicep' = {
  name: 'keyVault'
  scope: rg
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
    purgeProtection: keyVaultPurgeProtection
  }
}

module appRegistration 'modules/appRegistration.bicep' = {
  name: 'appRegistration'
  scope: rg
  params: {
    uniqueName: 'pchat-endpoints-${environmentName}-${resourceToken}'
    displayName: 'Persistent Chat endpoint change requests (${environmentName})'
    // The app's default host name is <name>.azurewebsites.net (public cloud).
    redirectUri: 'https://${functionAppName}.azurewebsites.net/.auth/login/aad/callback'
    ownerPrincipalId: principalId
  }
}

// Every role the app's identity (and the deploying principal) needs, in one place.
module roleAssignments 'modules/roleAssignments.bicep' = {
  name: 'roleAssignments'
  scope: rg
  params: {
    appPrincipalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    auditWitnessContainerName: storage.outputs.auditWitnessContainerName
    serviceBusNamespaceName: serviceBus.outputs.name
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    deployerPrincipalId: principalId
    deployerPrincipalType: principalType
  }
}

module functionApp 'modules/functionApp.bicep' = {
  name: 'functionApp'
  scope: rg
  params: {
    name: functionAppName
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    identityResourceId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    storageBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    auditWitnessContainerName: storage.outputs.auditWitnessContainerName
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    auditSigningKeyId: keyVault.outputs.auditSigningKeyUri
    auditVerifyKeys: auditVerifyKeys
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    apiAppId: appRegistration.outputs.appId
  }
  // The app starts with its identity able to reach storage, the bus and the key.
  dependsOn: [roleAssignments]
}

// azd reads these outputs into the environment (.azure/<env>/.env); none is a secret.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output SERVICE_API_NAME string = functionApp.outputs.name
output SERVICE_API_URI string = functionApp.outputs.uri
output API_APP_ID string = appRegistration.outputs.appId
output API_IDENTIFIER_URI string = 'api://${appRegistration.outputs.appId}'
output AZURE_CLIENT_ID string = identity.outputs.clientId
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_SERVICEBUS_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AUDIT_SIGNING_KEY_VAULT_KEY_ID string = keyVault.outputs.auditSigningKeyUri
