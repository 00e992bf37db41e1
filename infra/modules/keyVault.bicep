// Key Vault holding the audit checkpoint signing key: an EC P-256 key (ES256) that never leaves
// the vault. In Azure the app signs checkpoints through Key Vault as its managed identity (Key
// Vault Crypto User, roleAssignments.bicep), so no private key is ever in a setting; locally a PEM
// key in the data folder signs instead. The vault holds no secrets.
//
// Azure Verified Module (parameters checked against its main.bicep and key/main.bicep at 0.14.0).

param name string
param location string
param tags object

@description('Purge protection: on for production (see main.bicep).')
param purgeProtection bool

// The key's name inside the vault; the app is given its URI (AUDIT_SIGNING_KEY_VAULT_KEY_ID), not this name.
var auditSigningKeyName = 'audit-checkpoint-signing'

module vault 'br/public:avm/res/key-vault/vault:0.14.0' = {
  name: 'keyVault'
  params: {
    name: name
    location: location
    tags: tags
    sku: 'standard'
    // Azure RBAC, not access policies: the same role assignments as every other resource.
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    enablePurgeProtection: purgeProtection
    // Nothing but the app signs with it: no VM, disk or template access.
    enableVaultForDeployment: false
    enableVaultForTemplateDeployment: false
    enableVaultForDiskEncryption: false
    publicNetworkAccess: 'Enabled'
    keys: [
      {
        name: auditSigningKeyName
        kty: 'EC'
        curveName: 'P-256'
        keyOps: ['sign', 'verify']
      }
    ]
  }
}

output name string = vault.outputs.name
// The key's versionless URI: signing uses the current version, and each signature names the
// version that made it (Key Vault returns the full key id), which is what the verifier looks up.
output auditSigningKeyUri string = vault.outputs.keys[0].uri
