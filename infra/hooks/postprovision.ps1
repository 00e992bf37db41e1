# azd postprovision hook (Windows): the same as postprovision.sh. Gives the API's app registration
# its App ID URI, api://<appId>; Bicep cannot declare it. Safe to run again. Needs `az login`.
$ErrorActionPreference = 'Stop'

if (-not $env:API_APP_ID) {
  Write-Error 'postprovision: API_APP_ID is not set (was infra/main.bicep provisioned?)'
}

$uri = "api://$($env:API_APP_ID)"
$current = az ad app show --id $env:API_APP_ID --query identifierUris --output tsv
if ($current -contains $uri) {
  Write-Host "postprovision: $uri is already the App ID URI"
} else {
  az ad app update --id $env:API_APP_ID --identifier-uris $uri
  if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
  Write-Host "postprovision: App ID URI set to $uri"
}
