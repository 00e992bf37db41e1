// The Entra ID app registration that App Service authentication (authsettingsV2, functionApp.bicep)
// validates callers' tokens against, with the service's four app roles, and its service principal
// (the "Enterprise application" roles are assigned on).
//
// Declared with the Microsoft Graph Bicep extension (bicepconfig.json: microsoftGraphV1, the v1.0
// types 1.0.0; properties checked against its generated types.md). Deploying it needs an Entra
// role allowed to create app registrations (Application Developer, or user settings that let
// users register apps).
//
// The App ID URI `api://<appId>` cannot be declared here (the app id is only known once the app
// exists): azd's postprovision hook (infra/hooks/postprovision.*) sets it on the first run.

extension microsoftGraphV1

@description('Immutable key of the app registration in this tenant (one per azd environment).')
param uniqueName string

param displayName string

@description('The Function App\'s sign-in callback, for the review page\'s browser sign-in (/.auth/login/aad).')
param redirectUri string

@description('Object id of the person running azd, made an owner of the registration; empty for none.')
param ownerPrincipalId string = ''

// The roles of shared/domain/principal.ts (`Role`); test/unit/deployment/ checks they are the same.
// Each role's id is derived from the registration and the role, so it is the same on every deployment.
var roles = [
  {
    value: 'submitter'
    displayName: 'Submitter'
    description: 'Submits and dry-runs endpoint change requests; reads its own.'
  }
  {
    value: 'operator'
    displayName: 'Operator'
    description: 'Changes the topology (SIP domains, pools, directory users); reads any change request.'
  }
  {
    value: 'auditor'
    displayName: 'Auditor'
    description: 'Reads, exports and verifies the audit log; uses the review page; reads any change request.'
  }
  {
    value: 'reader'
    displayName: 'Reader'
    description: 'Reads endpoints and topology.'
  }
]

// The delegated scope a signed-in user's token carries (`scp`); the roles decide what they may do.
var userImpersonationScopeId = guid(uniqueName, 'user_impersonation')

// Azure CLI's well-known client id: pre-authorized, so `az account get-access-token --resource
// api://<appId>` works for an assigned user without a consent prompt.
var azureCliAppId = '04b07795-8ddb-461a-bbee-02f9e1bf7b46'

resource app 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  signInAudience: 'AzureADMyOrg'
  appRoles: [
    for role in roles: {
      id: guid(uniqueName, 'appRole', role.value)
      value: role.value
      displayName: role.displayName
      description: role.description
      // People (and groups) and automation's service principals alike.
      allowedMemberTypes: ['User', 'Application']
      isEnabled: true
    }
  ]
  api: {
    // v2 access tokens: issuer login.microsoftonline.com/<tenant>/v2.0, audience the app id.
    requestedAccessTokenVersion: 2
    oauth2PermissionScopes: [
      {
        id: userImpersonationScopeId
        value: 'user_impersonation'
        type: 'User'
        isEnabled: true
        adminConsentDisplayName: 'Call the Persistent Chat endpoint API'
        adminConsentDescription: 'Lets the application call the Persistent Chat endpoint change-request API as the signed-in user, with that user\'s app roles.'
        userConsentDisplayName: 'Call the Persistent Chat endpoint API'
        userConsentDescription: 'Lets the application call the Persistent Chat endpoint change-request API as you, with your app roles.'
      }
    ]
    preAuthorizedApplications: [
      {
        appId: azureCliAppId
        delegatedPermissionIds: [userImpersonationScopeId]
      }
    ]
  }
  web: {
    redirectUris: [redirectUri]
    // App Service authentication signs browsers in without a client secret: the ID token comes
    // straight back to /.auth/login/aad/callback (no secret exists to store).
    implicitGrantSettings: {
      enableIdTokenIssuance: true
      enableAccessTokenIssuance: false
    }
  }
  // The person who ran azd may manage the registration (append: existing owners are kept).
  owners: {
    relationships: empty(ownerPrincipalId) ? [] : [ownerPrincipalId]
    relationshipSemantics: 'append'
  }
}

resource servicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: app.appId
  // Only people and service principals holding one of the app roles get a token for the API.
  appRoleAssignmentRequired: true
}

output appId string = app.appId
output servicePrincipalId string = servicePrincipal.id
output appRoleIds object = toObject(roles, role => role.value, role => guid(uniqueName, 'appRole', role.value))
