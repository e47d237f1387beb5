#include "auth/oidc.h"

#include <nlohmann/json.hpp>

#include "env/env.h"
#include "net/http_client.h"

namespace backspan::auth {

Fetch HttpFetch() {
  return [](const std::string& url) -> Result<std::string> {
    net::HttpRequest req;
    req.method = "GET";
    req.url = url;
    req.headers.emplace_back("Accept", "application/json");
    auto res = net::Send(req);
    if (!res.ok()) return res.status();
    if (res->status != 200) return Status::IOError("GET " + url + ": HTTP " + std::to_string(res->status));
    return std::move(res->body);
  };
}

OidcKeys::OidcKeys(std::string issuer, Fetch fetch, Env* env, int64_t min_refresh_ns)
    : issuer_(std::move(issuer)), fetch_(std::move(fetch)), env_(env), min_refresh_ns_(min_refresh_ns) {
  while (!issuer_.empty() && issuer_.back() == '/') issuer_.pop_back();
}

Status OidcKeys::Refresh() {
  const std::string discovery_url = issuer_ + "/.well-known/openid-configuration";
  auto discovery = fetch_(discovery_url);
  if (!discovery.ok()) return discovery.status().WithContext("OIDC discovery");
  nlohmann::json doc = nlohmann::json::parse(*discovery, nullptr, false);
  if (!doc.is_object() || !doc.contains("jwks_uri") || !doc["jwks_uri"].is_string())
    return Status::IOError(discovery_url + " is not an OpenID provider configuration (no jwks_uri)");
  // The document must be the issuer's own (OIDC Discovery, section 4.3).
  std::string issuer = doc.value("issuer", "");
  while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();
  if (issuer != issuer_) return Status::IOError(discovery_url + " names another issuer: '" + issuer + "'");
  auto jwks = fetch_(doc["jwks_uri"].get<std::string>());
  if (!jwks.ok()) return jwks.status().WithContext("fetching the JWK Set");
  auto keys = KeySet::Parse(*jwks);
  if (!keys.ok()) return keys.status();
  keys_ = std::make_shared<const KeySet>(std::move(*keys));
  return Status::Ok();
}

Result<std::shared_ptr<const KeySet>> OidcKeys::ForKeyId(const std::string& kid) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = env_->MonotonicNanos();
  const bool known = keys_ && keys_->Find(kid);
  if (!known && (fetched_at_ == 0 || now - fetched_at_ >= min_refresh_ns_)) {
    fetched_at_ = now;
    Status s = Refresh();
    if (!s.ok() && !keys_) return s;  // else keep using what is cached
  }
  if (!keys_) return Status::IOError("no keys from " + issuer_ + " yet");
  return keys_;
}

Result<VerifiedJwt> TokenVerifier::Verify(std::string_view token) {
  auto kid = JwtKeyId(token);
  if (!kid.ok()) return kid.status();
  auto keys = keys_->ForKeyId(*kid);
  if (!keys.ok()) return keys.status();
  return VerifyJwt(token, **keys, policy_, env_->NowUnixNanos() / 1'000'000'000);
}

}  // namespace backspan::auth
