// How requests to Azure Blob Storage carry their credentials: Shared Key
// signatures (HMAC-SHA256 of the canonicalized request, Azure's "Authorize
// with Shared Key"), a SAS appended to the query, or a Microsoft Entra ID
// bearer token, fetched with a client secret or a managed identity, cached
// and refreshed before it expires.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "backend/azure/azure_credentials.h"
#include "backend/object/rest_client.h"

namespace backspan::azure {

// The x-ms-version every request sends (bearer tokens need 2017-11-09 or later).
inline constexpr const char* kApiVersion = "2021-12-02";

// The string Shared Key signs for `request` to `account` (exposed for tests).
std::string SharedKeyStringToSign(const object::RestRequest& request, const std::string& account);

// A signer for `credentials`; token sources fetch over `tls` and report
// their failures with the variables that chose them.
Result<std::shared_ptr<object::RequestSigner>> MakeSigner(const AzureCredentials& credentials,
                                                          const net::TlsOptions& tls, bool allow_http);

// An Entra ID access token for Azure Storage, kept until shortly before it
// expires. Thread-safe.
class TokenCache {
 public:
  TokenCache(AzureCredentials credentials, net::TlsOptions tls, bool allow_http);
  // A token valid for a while yet, fetching a new one when needed.
  Result<std::string> Token(int64_t now_unix_ns);

 private:
  Status Fetch(int64_t now_unix_ns);
  const AzureCredentials credentials_;
  const net::TlsOptions tls_;
  const bool allow_http_;
  std::mutex mu_;
  std::string token_;
  int64_t expires_ns_ = 0, refresh_ns_ = 0;
};

}  // namespace backspan::azure
