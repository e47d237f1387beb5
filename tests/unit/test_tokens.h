// Signing keys and JWTs made in tests with OpenSSL: what an OIDC provider
// would issue, for the verifier and the observatory's access control.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "util/bytes.h"

namespace backspan::testing {

std::string B64(const Bytes& b);
std::string B64(const std::string& s);

// A key pair made here, its public JWK, and a signer for its algorithm
// (RS256, PS256, ES256 or EdDSA).
struct TestKey {
  std::string kid, alg;
  std::shared_ptr<EVP_PKEY> pkey;

  static TestKey Make(const std::string& kid, const std::string& alg, int rsa_bits = 2048);
  nlohmann::json Jwk() const;
  Bytes Sign(const std::string& data, const std::string& as_alg) const;
};

// A JWS of `claims` signed by `key` (as `alg`, default the key's own), with
// `header` merged into the usual one.
std::string SignJwt(const TestKey& key, nlohmann::json claims, nlohmann::json header = nlohmann::json::object(),
                  std::string alg = "");

}  // namespace backspan::testing
