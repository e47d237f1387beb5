// An OpenID Connect provider as a source of trusted keys (OIDC Discovery
// 1.0): the issuer's /.well-known/openid-configuration names its jwks_uri,
// whose JWK Set is cached. A token naming a key id the cache lacks makes it
// fetch again (a key rotation), at most once per `min_refresh_ns` (10 s), so a
// flood of forged kids cannot turn the server against the provider.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "auth/jwt.h"

namespace backspan {
class Env;
}

namespace backspan::auth {

// GETs `url` and returns the body of a 200; anything else is an error.
using Fetch = std::function<Result<std::string>(const std::string& url)>;

// A Fetch with the project's HTTP client.
Fetch HttpFetch();

class OidcKeys {
 public:
  OidcKeys(std::string issuer, Fetch fetch, Env* env, int64_t min_refresh_ns = 10'000'000'000);

  // The keys, fetched first (or again, if they lack `kid` and the last fetch
  // is old enough). IOError if the provider cannot be reached and nothing is
  // cached.
  Result<std::shared_ptr<const KeySet>> ForKeyId(const std::string& kid);

 private:
  Status Refresh();

  std::string issuer_;
  Fetch fetch_;
  Env* env_;
  int64_t min_refresh_ns_;
  std::mutex mu_;
  std::shared_ptr<const KeySet> keys_;
  int64_t fetched_at_ = 0;  // monotonic; 0: never
};

// Verifies tokens from one issuer with its current keys.
class TokenVerifier {
 public:
  TokenVerifier(JwtPolicy policy, std::unique_ptr<OidcKeys> keys, Env* env)
      : policy_(std::move(policy)), keys_(std::move(keys)), env_(env) {}
  // Unauthenticated with the reason, or IOError if the keys cannot be had.
  Result<VerifiedJwt> Verify(std::string_view token);
  const JwtPolicy& policy() const { return policy_; }

 private:
  JwtPolicy policy_;
  std::unique_ptr<OidcKeys> keys_;
  Env* env_;
};

}  // namespace backspan::auth
