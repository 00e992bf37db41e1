#!/bin/sh
# azd postprovision hook: give the API's app registration its App ID URI, api://<appId>, so callers
# can ask for tokens with `--resource api://<appId>` or `scope=api://<appId>/.default`.
# Bicep cannot declare it (the app id exists only once the app does). Safe to run again.
# azd runs hooks with the environment's outputs (API_APP_ID) in the environment; needs `az login`.
set -eu

if [ -z "${API_APP_ID:-}" ]; then
  echo "postprovision: API_APP_ID is not set (was infra/main.bicep provisioned?)" >&2
  exit 1
fi

uri="api://${API_APP_ID}"
current="$(az ad app show --id "$API_APP_ID" --query "identifierUris" --output tsv)"
case "$current" in
  *"$uri"*) echo "postprovision: $uri is already the App ID URI" ;;
  *)
    az ad app update --id "$API_APP_ID" --identifier-uris "$uri"
    echo "postprovision: App ID URI set to $uri"
    ;;
esac
