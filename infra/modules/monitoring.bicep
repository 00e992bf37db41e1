// Telemetry: Application Insights on a Log Analytics workspace, with local (instrumentation-key)
// authentication disabled, so only Entra identities may send: the Function App sends as its
// user-assigned identity (APPLICATIONINSIGHTS_AUTHENTICATION_STRING, set in functionApp.bicep, and
// the Monitoring Metrics Publisher role, granted in roleAssignments.bicep).
//
// The workspace is a plain resource: the Verified Module for it (avm/res/operational-insights/
// workspace) outputs the workspace's shared keys, and this deployment outputs no key of any kind.
// Application Insights uses the Verified Module (parameters checked against its main.bicep at 0.8.0).

param logAnalyticsName string
param applicationInsightsName string
param location string
param tags object

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
    features: {
      // No shared-key ingestion either: Application Insights ingests with Entra ID.
      disableLocalAuth: true
    }
  }
}

module applicationInsights 'br/public:avm/res/insights/component:0.8.0' = {
  name: 'applicationInsights'
  params: {
    name: applicationInsightsName
    location: location
    tags: tags
    kind: 'web'
    applicationType: 'web'
    workspaceResourceId: workspace.id
    // DisableLocalAuth: true on the component: the instrumentation key alone cannot send telemetry.
    disableLocalAuth: true
    // Keep IP masking on: client addresses are personal data and the service does not need them.
    disableIpMasking: false
    retentionInDays: 90
  }
}

output applicationInsightsName string = applicationInsights.outputs.name
// Not a secret: with local auth disabled the ingestion endpoint it names only accepts Entra tokens.
output applicationInsightsConnectionString string = applicationInsights.outputs.connectionString
