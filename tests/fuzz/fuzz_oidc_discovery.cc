// OIDC discovery: the provider configuration and the JWK Set it points to,
// split at "\n--\n", as a provider (or an attacker posing as one) serves
// them; then a key lookup that triggers the fetch.
#include "auth/oidc.h"
#include "env/env.h"
#include "fuzz.h"

using namespace backspan;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = fuzz::Split(fuzz::Text(data, size));
  const std::string_view discovery = parts.first, jwks = parts.second;
  const std::string issuer = "https://issuer.test";
  auth::Fetch fetch = [&](const std::string& url) -> Result<std::string> {
    if (url == issuer + "/.well-known/openid-configuration") return std::string(discovery);
    return std::string(jwks);
  };
  auth::OidcKeys keys(issuer, fetch, Env::Default());
  (void)keys.ForKeyId("k1");
  return 0;
}
