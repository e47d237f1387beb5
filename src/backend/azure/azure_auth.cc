#include "backend/azure/azure_auth.h"

#include <algorithm>
#include <map>
#include <vector>

#include "crypto/crypto.h"
#include "util/bounded_json.h"
#include "util/hex.h"
#include "util/json_number.h"
#include "util/text.h"
#include "util/time_format.h"

namespace backspan::azure {
namespace {

std::string HttpDate(int64_t now_unix_ns) { return FormatUtc(now_unix_ns, "%a, %d %b %Y %H:%M:%S GMT"); }

std::string HeaderValue(const object::RestRequest& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (AsciiLower(k) == name) return v;
  return "";
}

std::string Trim(std::string v) {
  const size_t b = v.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return v.substr(b, v.find_last_not_of(" \t") - b + 1);
}

std::string UrlDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      auto byte = HexDecode(s.substr(i + 1, 2));
      if (byte) {
        out += static_cast<char>((*byte)[0]);
        i += 2;
        continue;
      }
    }
    out += s[i];  // a '+' stays: in a SAS it is base64, not a space
  }
  return out;
}

class SharedKeySigner final : public object::RequestSigner {
 public:
  SharedKeySigner(std::string account, Bytes key) : account_(std::move(account)), key_(std::move(key)) {}
  Status Sign(object::RestRequest* r, const std::string&, int64_t now) override {
    r->headers.emplace_back("x-ms-date", HttpDate(now));
    const std::string sts = SharedKeyStringToSign(*r, account_);
    const crypto::Digest mac = crypto::HmacSha256(ByteView(key_), AsBytes(sts));
    r->headers.emplace_back("Authorization", "SharedKey " + account_ + ":" + Base64Encode(mac));
    return Status::Ok();
  }

 private:
  const std::string account_;
  const Bytes key_;
};

class SasSigner final : public object::RequestSigner {
 public:
  explicit SasSigner(const std::string& sas) {
    size_t pos = 0;
    while (pos < sas.size()) {
      size_t end = sas.find('&', pos);
      if (end == std::string::npos) end = sas.size();
      const std::string part = sas.substr(pos, end - pos);
      const size_t eq = part.find('=');
      if (!part.empty()) params_.emplace_back(UrlDecode(part.substr(0, eq)), eq == std::string::npos ? "" : UrlDecode(part.substr(eq + 1)));
      pos = end + 1;
    }
  }
  Status Sign(object::RestRequest* r, const std::string&, int64_t now) override {
    r->headers.emplace_back("x-ms-date", HttpDate(now));
    r->query.insert(r->query.end(), params_.begin(), params_.end());
    return Status::Ok();
  }

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

class TokenSigner final : public object::RequestSigner {
 public:
  explicit TokenSigner(std::shared_ptr<TokenCache> cache) : cache_(std::move(cache)) {}
  Status Sign(object::RestRequest* r, const std::string&, int64_t now) override {
    ASSIGN_OR_RETURN(std::string token, cache_->Token(now));
    r->headers.emplace_back("x-ms-date", HttpDate(now));
    r->headers.emplace_back("Authorization", "Bearer " + token);
    return Status::Ok();
  }

 private:
  std::shared_ptr<TokenCache> cache_;
};

}  // namespace

std::string SharedKeyStringToSign(const object::RestRequest& r, const std::string& account) {
  std::string length = HeaderValue(r, "content-length");
  if (length.empty() && r.body.size > 0) length = std::to_string(r.body.size);
  if (length == "0") length.clear();
  std::string s = r.method + "\n";
  for (const char* h : {"content-encoding", "content-language"}) s += HeaderValue(r, h) + "\n";
  s += length + "\n";
  for (const char* h : {"content-md5", "content-type", "date", "if-modified-since", "if-match", "if-none-match",
                        "if-unmodified-since", "range"})
    s += HeaderValue(r, h) + "\n";
  // x-ms-* headers, by lower-case name.
  std::map<std::string, std::string> ms;
  for (const auto& [k, v] : r.headers) {
    const std::string name = AsciiLower(k);
    if (name.rfind("x-ms-", 0) == 0) ms[name] = Trim(v);
  }
  for (const auto& [k, v] : ms) s += k + ":" + v + "\n";
  // The resource: the account, the path as sent, then each query parameter
  // by lower-case name, with its values (decoded) sorted and joined by ','.
  s += "/" + account + r.path;
  std::map<std::string, std::vector<std::string>> params;
  for (const auto& [k, v] : r.query) params[AsciiLower(k)].push_back(v);
  for (auto& [k, values] : params) {
    std::sort(values.begin(), values.end());
    s += "\n" + k + ":";
    for (size_t i = 0; i < values.size(); ++i) s += (i ? "," : "") + values[i];
  }
  return s;
}

TokenCache::TokenCache(AzureCredentials credentials, net::TlsOptions tls, bool allow_http)
    : credentials_(std::move(credentials)), tls_(std::move(tls)), allow_http_(allow_http) {}

Result<std::string> TokenCache::Token(int64_t now) {
  std::lock_guard lock(mu_);
  if (token_.empty() || now >= refresh_ns_) {
    Status st = Fetch(now);
    // A failed refresh keeps a token that is still good.
    if (!st.ok() && (token_.empty() || now >= expires_ns_)) return st;
  }
  return token_;
}

Status TokenCache::Fetch(int64_t now) {
  const AzureCredentials& c = credentials_;
  const std::string resource = "https://storage.azure.com/";
  std::string url, body, method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;
  if (c.kind == AzureCredentials::Kind::kClientSecret) {
    method = "POST";
    url = c.authority + "/" + object::UriEncode(c.tenant, false) + "/oauth2/v2.0/token";
    body = "grant_type=client_credentials&client_id=" + object::UriEncode(c.client_id, false) +
           "&client_secret=" + object::UriEncode(c.client_secret, false) +
           "&scope=" + object::UriEncode(resource + ".default", false);
    headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  } else if (!c.identity_endpoint.empty()) {
    url = c.identity_endpoint + (c.identity_endpoint.find('?') == std::string::npos ? "?" : "&") +
          "api-version=2019-08-01&resource=" + object::UriEncode(resource, false);
    if (!c.client_id.empty()) url += "&client_id=" + object::UriEncode(c.client_id, false);
    headers.emplace_back("X-IDENTITY-HEADER", c.identity_header);
  } else {
    url = c.imds + "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=" + object::UriEncode(resource, false);
    if (!c.client_id.empty()) url += "&client_id=" + object::UriEncode(c.client_id, false);
    headers.emplace_back("Metadata", "true");
  }
  auto fail = [&](const std::string& why) {
    return Status::Unauthenticated("getting an Entra ID token for Azure Storage with " + c.source + ": " + why);
  };
  // The metadata endpoint is plain http on a link-local address by design.
  ASSIGN_OR_RETURN(object::Endpoint ep, object::ParseEndpoint(url, allow_http_ || url.rfind(c.imds, 0) == 0));
  net::ConnectionPool pool(ep.Origin(), tls_, 1);
  net::PooledRequest req;
  req.method = method;
  const size_t path = url.find('/', url.find("://") + 3);
  req.target = path == std::string::npos ? "/" : url.substr(path);
  req.headers = headers;
  req.headers.emplace_back("Host", ep.HostHeader());
  req.body = net::BodySource::Of(body);
  req.timeout_ms = 30'000;
  auto res = pool.Send(req);
  if (!res.ok()) return fail(res.status().message());
  std::string why;
  const nlohmann::json doc = ParseBoundedJson(AsText(res->body), {}, &why);
  if (res->status != 200) {
    std::string err = doc.is_object() ? doc.value("error_description", doc.value("error", std::string())) : "";
    return fail("HTTP " + std::to_string(res->status) + (err.empty() ? "" : ": " + err.substr(0, 300)));
  }
  if (!doc.is_object() || !doc.contains("access_token") || !doc["access_token"].is_string())
    return fail("the answer has no access_token");
  // expires_in (seconds from now) or expires_on (Unix seconds); as numbers or text.
  auto seconds = [&](const char* key) -> std::optional<int64_t> {
    if (!doc.contains(key)) return std::nullopt;
    const auto& v = doc[key];
    if (v.is_string()) {
      const std::string t = v.get<std::string>();
      if (t.empty() || t.size() > 18 || t.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
      return std::stoll(t);
    }
    return JsonInteger<int64_t>(v);
  };
  int64_t expires = 0;
  if (auto in = seconds("expires_in"); in && *in > 0 && *in < 86400 * 365) expires = now + *in * 1'000'000'000;
  else if (auto on = seconds("expires_on"); on && *on > 0 && *on < (int64_t{1} << 33)) expires = *on * 1'000'000'000;
  else return fail("the answer says neither expires_in nor expires_on");
  if (expires <= now) return fail("the token it gave has already expired");
  token_ = doc["access_token"].get<std::string>();
  expires_ns_ = expires;
  // Refresh five minutes early, or halfway through a shorter life.
  refresh_ns_ = expires - std::min<int64_t>(300'000'000'000, (expires - now) / 2);
  return Status::Ok();
}

Result<std::shared_ptr<object::RequestSigner>> MakeSigner(const AzureCredentials& c, const net::TlsOptions& tls,
                                                          bool allow_http) {
  switch (c.kind) {
    case AzureCredentials::Kind::kSharedKey:
      return std::shared_ptr<object::RequestSigner>(std::make_shared<SharedKeySigner>(c.account, c.shared_key));
    case AzureCredentials::Kind::kSas:
      return std::shared_ptr<object::RequestSigner>(std::make_shared<SasSigner>(c.sas));
    case AzureCredentials::Kind::kClientSecret:
    case AzureCredentials::Kind::kManagedIdentity:
      return std::shared_ptr<object::RequestSigner>(
          std::make_shared<TokenSigner>(std::make_shared<TokenCache>(c, tls, allow_http)));
  }
  return Status::Internal("unreachable");
}

}  // namespace backspan::azure
