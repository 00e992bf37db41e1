// The Function App: the Flex Consumption plan (FC1), Node 22, running as the user-assigned
// identity, with every connection identity-based; and App Service authentication (Entra ID) in
// front of it, answering unauthenticated API callers 401 except on the anonymous routes.
//
// Plain resources rather than the Verified Modules (avm/res/web/serverfarm, avm/res/web/site):
// the app settings are an array of {name, value} here so that every setting's name is an
// expression over shared/names.json, which the deployment test reads and checks; the site module
// takes them as an object. The property names follow the Microsoft.Web/sites 2024-04-01 reference
// and Microsoft's azd Flex Consumption quickstart (functions-quickstart-typescript-azd).

param name string
param planName string
param location string
param tags object

@description('Resource id and client id of the app\'s user-assigned identity.')
param identityResourceId string
param identityClientId string

param storageAccountName string
@description('The storage account\'s blob endpoint (https://<account>.blob.core.windows.net/).')
param storageBlobEndpoint string
param deploymentContainerName string
@description('The blob witness container of audit checkpoints (storage.bicep).')
param auditWitnessContainerName string

@description('<namespace>.servicebus.windows.net')
param serviceBusFullyQualifiedNamespace string

@description('URI of the Key Vault key that signs audit checkpoints.')
param auditSigningKeyId string

@description('Public keys of retired checkpoint signing keys, for AUDIT_VERIFY_KEYS (PEM public keys or a JWK set; not secret). Empty: the setting is left out.')
param auditVerifyKeys string = ''

@description('Application Insights connection string: the ingestion endpoint, not a secret (local auth is disabled).')
param applicationInsightsConnectionString string

@description('Application (client) id of the Entra app registration callers get tokens for.')
param apiAppId string

@description('Most instances the app scales out to. Commits serialize on one table partition per deployment, so more instances add contention, not throughput.')
param maximumInstanceCount int = 40

@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

var names = loadJsonContent('../../shared/names.json')
var storageConnection = names.connections.storage
var serviceBusConnection = names.connections.serviceBus
var suffix = names.identityConnectionSuffixes

// The routes any caller may reach without a token (functions/*.ts `route:` under host.json's
// routePrefix `api`): liveness, readiness (anonymous callers see only the status), the review
// page's HTML (it holds no data; its API calls need a token). The OpenAPI document, its docs page
// and the problem-type pages arrive with issue 11 and are listed now so they are anonymous from
// their first deployment. test/unit/deployment/ checks that every route without a role is here.
var anonymousPaths = [
  '/api/health'
  '/api/health/ready'
  '/api/review'
  '/api/openapi.json'
  '/api/docs'
  '/api/docs/*'
  '/api/problems/*'
]

// Every name is an expression over names.json; no key, connection string or secret anywhere.
var appSettings = [
  // The Functions runtime's storage and the directory table, as the identity (Functions'
  // identity-based connection convention: <connection>__accountName / __credential / __clientId).
  {
    name: '${storageConnection}${suffix.accountName}'
    value: storageAccountName
  }
  {
    name: '${storageConnection}${suffix.credential}'
    value: 'managedidentity'
  }
  {
    name: '${storageConnection}${suffix.clientId}'
    value: identityClientId
  }
  // The blob service the witness of audit checkpoints is written to, as the storage account names
  // it (the endpoint, not one built from the account name, so a sovereign cloud works too).
  {
    name: '${storageConnection}${suffix.blobServiceUri}'
    value: storageBlobEndpoint
  }
  // Service Bus, the same way.
  {
    name: '${serviceBusConnection}${suffix.fullyQualifiedNamespace}'
    value: serviceBusFullyQualifiedNamespace
  }
  {
    name: '${serviceBusConnection}${suffix.credential}'
    value: 'managedidentity'
  }
  {
    name: '${serviceBusConnection}${suffix.clientId}'
    value: identityClientId
  }
  // Which identity @azure/identity's credentials use (the app has only this one).
  {
    name: names.appSettings.azureClientId
    value: identityClientId
  }
  // Service Bus is the production transport.
  {
    name: names.appSettings.transport
    value: names.transport.azure
  }
  {
    name: names.appSettings.endpointCreateQueue
    value: names.queues.endpointCreate
  }
  {
    name: names.appSettings.endpointDeleteQueue
    value: names.queues.endpointDelete
  }
  {
    name: names.appSettings.auditEventsDestination
    value: names.topics.auditEvents
  }
  {
    name: names.appSettings.directoryTable
    value: names.tables.directory
  }
  {
    name: names.appSettings.maxDeliveryCount
    value: string(names.delivery.maxDeliveryCount)
  }
  // Callers' identity comes from App Service authentication (authsettingsV2 below).
  {
    name: names.appSettings.authMode
    value: 'easyauth'
  }
  // The WORM container every checkpoint is copied to (storage.bicep declares it and its policy).
  {
    name: names.appSettings.auditWitnessContainer
    value: auditWitnessContainerName
  }
  // Checkpoints are signed by Key Vault; no private key is a setting.
  {
    name: names.appSettings.auditSigningKeyVaultKeyId
    value: auditSigningKeyId
  }
  // Telemetry, sent with the identity's Entra token (local auth is disabled on the component).
  {
    name: names.appSettings.applicationInsightsConnectionString
    value: applicationInsightsConnectionString
  }
  {
    name: names.appSettings.applicationInsightsAuthenticationString
    value: 'Authorization=AAD;ClientId=${identityClientId}'
  }
]

// Verify-only keys (a key rotation's retired public keys) only when some are given.
var verifyKeySettings = empty(auditVerifyKeys)
  ? []
  : [
      {
        name: names.appSettings.auditVerifyKeys
        value: auditVerifyKeys
      }
    ]

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true // Linux
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  // azd finds the `api` service's app by this tag.
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      // Flex Consumption sets the runtime in functionAppConfig, not in FUNCTIONS_* settings.
      appSettings: concat(appSettings, verifyKeySettings)
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityResourceId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      // Node 22 in Azure (Node 20 reached end of life in April 2026). Locally and in CI the
      // service runs on Node 20; Node 22 is untested there (README, "Deploy to Azure").
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

// No basic (user name and password) publishing credentials: azd deploys with the deployer's Entra token.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

// App Service authentication: Entra ID tokens for the app registration, 401 for anyone without
// one (except the anonymous routes). The app reads the caller from X-MS-CLIENT-PRINCIPAL
// (AUTH_MODE=easyauth) and checks the app roles itself.
resource authSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
      excludedPaths: anonymousPaths
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: apiAppId
          // v2 tokens (the registration asks for them): issuer login.microsoftonline.com/<tenant>/v2.0.
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          // v2 tokens carry the app id as audience; `api://<appId>` covers v1 tokens asked for by URI.
          allowedAudiences: [
            apiAppId
            'api://${apiAppId}'
          ]
        }
      }
    }
    login: {
      // The review page signs in with a session cookie; no provider tokens are kept.
      tokenStore: {
        enabled: false
      }
    }
    httpSettings: {
      requireHttps: true
    }
  }
}

output name string = site.name
output uri string = 'https://${site.properties.defaultHostName}'
