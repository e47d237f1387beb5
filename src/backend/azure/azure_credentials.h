// Which Azure Storage account and credentials an azure:// location uses,
// from the environment, as the Azure SDKs and CLI read it (first match
// wins; docs/cli.md, "Repositories"):
//   1. AZURE_STORAGE_CONNECTION_STRING (AccountName, AccountKey, BlobEndpoint,
//      SharedAccessSignature, EndpointSuffix, DefaultEndpointsProtocol;
//      UseDevelopmentStorage=true: Azurite on 127.0.0.1:10000);
//   2. AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY (Shared Key) or
//      AZURE_STORAGE_SAS_TOKEN;
//   3. AZURE_STORAGE_ACCOUNT with Microsoft Entra ID: a client secret
//      (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, token endpoint
//      at AZURE_AUTHORITY_HOST), else a managed identity (IDENTITY_ENDPOINT
//      with IDENTITY_HEADER, else the instance metadata endpoint).
// AZURE_STORAGE_ENDPOINT overrides https://ACCOUNT.blob.core.windows.net.
#pragma once

#include <functional>
#include <string>

#include "util/bytes.h"
#include "util/status.h"

namespace backspan::azure {

struct AzureCredentials {
  enum class Kind { kSharedKey, kSas, kClientSecret, kManagedIdentity };
  Kind kind = Kind::kSharedKey;
  std::string account;
  std::string endpoint;  // the blob service URL, possibly with a path (an emulator's account)
  Bytes shared_key;      // decoded AccountKey
  std::string sas;       // query string, without '?'
  // Microsoft Entra ID.
  std::string tenant, client_id, client_secret;
  std::string authority = "https://login.microsoftonline.com";
  std::string identity_endpoint, identity_header;  // managed identity on App Service, Functions, Arc
  std::string imds = "http://169.254.169.254";      // managed identity on a VM
  // Which variables chose these credentials, for messages (never values).
  std::string source;
};

using GetEnv = std::function<const char*(const char*)>;

Result<AzureCredentials> AzureCredentialsFromEnvironment(const GetEnv& getenv);

// The account name, key, endpoint and SAS in a connection string.
Result<AzureCredentials> ParseConnectionString(const std::string& text);

}  // namespace backspan::azure
