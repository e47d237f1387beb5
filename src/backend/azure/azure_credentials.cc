#include "backend/azure/azure_credentials.h"

#include <map>

#include "util/hex.h"
#include "util/text.h"

namespace backspan::azure {
namespace {

// Azurite's account and key, published by Microsoft for the emulator
// (what UseDevelopmentStorage=true means to every Azure SDK); not a secret.
constexpr const char* kDevAccount = "devstoreaccount1";
constexpr const char* kDevKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

Status DecodeKey(const std::string& text, const char* where, Bytes* out) {
  auto key = Base64Decode(text);
  if (!key || key->empty()) return Status::InvalidArgument(std::string(where) + " is not a base64 account key");
  *out = std::move(*key);
  return Status::Ok();
}

std::string StripQuestionMark(std::string sas) {
  if (!sas.empty() && sas.front() == '?') sas.erase(0, 1);
  return sas;
}

}  // namespace

Result<AzureCredentials> ParseConnectionString(const std::string& text) {
  std::map<std::string, std::string> fields;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(';', pos);
    if (end == std::string::npos) end = text.size();
    const std::string part = text.substr(pos, end - pos);
    pos = end + 1;
    if (part.find_first_not_of(" \t") == std::string::npos) continue;
    const size_t eq = part.find('=');
    if (eq == std::string::npos)
      return Status::InvalidArgument("AZURE_STORAGE_CONNECTION_STRING: '" + part.substr(0, part.find_first_of(" ")) +
                                     "' is not KEY=VALUE");
    fields[AsciiLower(part.substr(0, eq))] = part.substr(eq + 1);
  }
  auto get = [&](const char* k) { auto it = fields.find(k); return it == fields.end() ? std::string() : it->second; };
  AzureCredentials c;
  c.source = "AZURE_STORAGE_CONNECTION_STRING";
  if (AsciiLower(get("usedevelopmentstorage")) == "true") {
    c.account = kDevAccount;
    RETURN_IF_ERROR(DecodeKey(kDevKey, "the development storage key", &c.shared_key));
    const std::string proxy = get("developmentstorageproxyuri");
    c.endpoint = (proxy.empty() ? "http://127.0.0.1:10000" : proxy) + "/" + kDevAccount;
    return c;
  }
  c.account = get("accountname");
  c.endpoint = get("blobendpoint");
  if (c.endpoint.empty()) {
    if (c.account.empty())
      return Status::InvalidArgument("AZURE_STORAGE_CONNECTION_STRING has neither AccountName nor BlobEndpoint");
    const std::string protocol = get("defaultendpointsprotocol").empty() ? "https" : get("defaultendpointsprotocol");
    const std::string suffix = get("endpointsuffix").empty() ? "core.windows.net" : get("endpointsuffix");
    c.endpoint = protocol + "://" + c.account + ".blob." + suffix;
  }
  if (const std::string sas = get("sharedaccesssignature"); !sas.empty()) {
    c.kind = AzureCredentials::Kind::kSas;
    c.sas = StripQuestionMark(sas);
  } else if (const std::string key = get("accountkey"); !key.empty()) {
    if (c.account.empty()) return Status::InvalidArgument("AZURE_STORAGE_CONNECTION_STRING has an AccountKey but no AccountName");
    c.kind = AzureCredentials::Kind::kSharedKey;
    RETURN_IF_ERROR(DecodeKey(key, "AZURE_STORAGE_CONNECTION_STRING's AccountKey", &c.shared_key));
  } else {
    return Status::InvalidArgument("AZURE_STORAGE_CONNECTION_STRING has neither AccountKey nor SharedAccessSignature");
  }
  return c;
}

Result<AzureCredentials> AzureCredentialsFromEnvironment(const GetEnv& getenv) {
  auto var = [&](const char* name) {
    const char* v = getenv(name);
    return v ? std::string(v) : std::string();
  };
  AzureCredentials c;
  if (const std::string cs = var("AZURE_STORAGE_CONNECTION_STRING"); !cs.empty()) {
    ASSIGN_OR_RETURN(c, ParseConnectionString(cs));
  } else {
    c.account = var("AZURE_STORAGE_ACCOUNT");
    if (c.account.empty())
      return Status::InvalidArgument(
          "no Azure credentials: set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT with "
          "AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN, a client secret (AZURE_TENANT_ID, AZURE_CLIENT_ID, "
          "AZURE_CLIENT_SECRET) or a managed identity");
    c.endpoint = "https://" + c.account + ".blob.core.windows.net";
    if (const std::string key = var("AZURE_STORAGE_KEY"); !key.empty()) {
      c.kind = AzureCredentials::Kind::kSharedKey;
      c.source = "AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY";
      RETURN_IF_ERROR(DecodeKey(key, "AZURE_STORAGE_KEY", &c.shared_key));
    } else if (const std::string sas = var("AZURE_STORAGE_SAS_TOKEN"); !sas.empty()) {
      c.kind = AzureCredentials::Kind::kSas;
      c.source = "AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_SAS_TOKEN";
      c.sas = StripQuestionMark(sas);
    } else if (!var("AZURE_CLIENT_SECRET").empty()) {
      c.kind = AzureCredentials::Kind::kClientSecret;
      c.source = "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET";
      c.tenant = var("AZURE_TENANT_ID");
      c.client_id = var("AZURE_CLIENT_ID");
      c.client_secret = var("AZURE_CLIENT_SECRET");
      if (c.tenant.empty() || c.client_id.empty())
        return Status::InvalidArgument("AZURE_CLIENT_SECRET needs AZURE_TENANT_ID and AZURE_CLIENT_ID too");
      if (const std::string a = var("AZURE_AUTHORITY_HOST"); !a.empty()) c.authority = a;
      while (!c.authority.empty() && c.authority.back() == '/') c.authority.pop_back();
    } else {
      c.kind = AzureCredentials::Kind::kManagedIdentity;
      c.client_id = var("AZURE_CLIENT_ID");  // a user-assigned identity, if set
      c.identity_endpoint = var("IDENTITY_ENDPOINT");
      c.identity_header = var("IDENTITY_HEADER");
      c.source = c.identity_endpoint.empty() ? "the managed identity (instance metadata endpoint)"
                                             : "the managed identity (IDENTITY_ENDPOINT)";
      // The Azure SDKs' override of the metadata endpoint's host.
      if (const std::string imds = var("AZURE_POD_IDENTITY_AUTHORITY_HOST"); !imds.empty()) c.imds = imds;
      while (!c.imds.empty() && c.imds.back() == '/') c.imds.pop_back();
    }
  }
  if (const std::string ep = var("AZURE_STORAGE_ENDPOINT"); !ep.empty()) c.endpoint = ep;
  while (!c.endpoint.empty() && c.endpoint.back() == '/') c.endpoint.pop_back();
  return c;
}

}  // namespace backspan::azure
