// Verifying JSON Web Tokens (RFC 7519) signed as compact JWS (RFC 7515),
// the way RFC 8725 (JWT best current practices) asks: an allow-list of
// asymmetric algorithms, the key chosen by `kid` from a trusted JWK Set and
// never from the token, and the issuer, audience and validity window
// checked. OpenSSL does the cryptography; OpenSSL types stay in jwt.cc.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace backspan::auth {

// The public keys of a JWK Set (RFC 7517): RSA (2048 bits or more), EC
// P-256 and Ed25519 keys for signing. Immutable once parsed; safe to share.
class KeySet {
 public:
  struct Key;
  // Parses a JWK Set document ({"keys": [...]}). Keys that cannot verify
  // signatures here (other types or curves, "use" other than "sig", short
  // RSA keys, no "kid") are skipped; InvalidArgument if the document is
  // not a JWK Set at all.
  static Result<KeySet> Parse(std::string_view json);
  // The key with this id, or nullptr.
  const Key* Find(std::string_view kid) const;
  size_t size() const { return keys_.size(); }
  // How many keys of the document were skipped, and why the first was.
  size_t skipped() const { return skipped_; }
  const std::string& skip_reason() const { return skip_reason_; }

 private:
  std::vector<std::shared_ptr<const Key>> keys_;
  size_t skipped_ = 0;
  std::string skip_reason_;
};

struct JwtPolicy {
  std::string issuer;                  // `iss` must equal it exactly
  std::vector<std::string> audiences;  // `aud` must contain one of them
  int64_t clock_skew_seconds = 60;     // allowed on `exp` and `nbf`
  // The allow-list. Never "none" and never an HMAC algorithm: with public
  // keys those would let anyone sign.
  std::vector<std::string> algorithms = {"RS256", "PS256", "ES256", "EdDSA"};
};

struct VerifiedJwt {
  std::string algorithm, key_id;
  std::string issuer, subject;
  int64_t expires_at = 0;   // unix seconds
  std::string claims_json;  // the payload, verified
};

// The `kid` of a token's header, unverified: which key to look up (or
// fetch) before VerifyJwt. Unauthenticated if the token is not a JWS.
Result<std::string> JwtKeyId(std::string_view token);

// Verifies `token` at `now_unix_s`. Every failure is Unauthenticated with
// the reason ("the token has expired", "algorithm 'HS256' is not allowed",
// "unknown key id 'k2'" ...), so it can be told to the client and audited.
Result<VerifiedJwt> VerifyJwt(std::string_view token, const KeySet& keys, const JwtPolicy& policy,
                              int64_t now_unix_s);

}  // namespace backspan::auth
