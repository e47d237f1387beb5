#include "auth/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "util/hex.h"
#include "util/json_number.h"

namespace backspan::auth {

using nlohmann::json;

struct KeySet::Key {
  std::string kid, kty, crv, alg;  // alg: the JWK's own "alg", if it names one
  std::shared_ptr<EVP_PKEY> pkey;
};

namespace {

constexpr int kMinRsaBits = 2048;

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using BigNum = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using ParamBuild = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using Params = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using EcdsaSig = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;

std::optional<Bytes> Member(const json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) return std::nullopt;
  return Base64UrlDecode(it->get<std::string>());
}

std::string Text(const json& obj, const char* name) {
  auto it = obj.find(name);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

// A public key from parameters (RSA n and e; EC group and point).
EVP_PKEY* FromData(const char* type, OSSL_PARAM_BLD* bld) {
  Params params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    return nullptr;
  return pkey;
}

// The key of one JWK, or why it is skipped.
Result<KeySet::Key> ParseKey(const json& jwk) {
  if (!jwk.is_object()) return Status::InvalidArgument("a key is not an object");
  KeySet::Key key;
  key.kid = Text(jwk, "kid");
  key.kty = Text(jwk, "kty");
  key.crv = Text(jwk, "crv");
  key.alg = Text(jwk, "alg");
  if (key.kid.empty()) return Status::InvalidArgument("a key has no kid");
  if (auto use = Text(jwk, "use"); !use.empty() && use != "sig")
    return Status::InvalidArgument("key " + key.kid + " is for '" + use + "', not signatures");
  EVP_PKEY* pkey = nullptr;
  if (key.kty == "RSA") {
    auto n = Member(jwk, "n"), e = Member(jwk, "e");
    if (!n || !e || n->empty() || e->empty()) return Status::InvalidArgument("RSA key " + key.kid + " lacks n or e");
    BigNum bn_n(BN_bin2bn(n->data(), static_cast<int>(n->size()), nullptr));
    BigNum bn_e(BN_bin2bn(e->data(), static_cast<int>(e->size()), nullptr));
    ParamBuild bld(OSSL_PARAM_BLD_new());
    if (!bn_n || !bn_e || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1)
      return Status::Internal("cannot build an RSA key");
    pkey = FromData("RSA", bld.get());
  } else if (key.kty == "EC" && key.crv == "P-256") {
    auto x = Member(jwk, "x"), y = Member(jwk, "y");
    if (!x || !y || x->size() != 32 || y->size() != 32)
      return Status::InvalidArgument("EC key " + key.kid + " lacks a 32-byte x or y");
    Bytes point{0x04};  // uncompressed: 04 || x || y
    point.insert(point.end(), x->begin(), x->end());
    point.insert(point.end(), y->begin(), y->end());
    ParamBuild bld(OSSL_PARAM_BLD_new());
    if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1)
      return Status::Internal("cannot build an EC key");
    pkey = FromData("EC", bld.get());
  } else if (key.kty == "OKP" && key.crv == "Ed25519") {
    auto x = Member(jwk, "x");
    if (!x || x->size() != 32) return Status::InvalidArgument("Ed25519 key " + key.kid + " lacks a 32-byte x");
    pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, x->data(), x->size());
  } else {
    return Status::InvalidArgument("key " + key.kid + " is " + key.kty + (key.crv.empty() ? "" : " " + key.crv) +
                                   ", not RSA, EC P-256 or Ed25519");
  }
  if (!pkey) return Status::InvalidArgument("key " + key.kid + " is not a valid public key (a point off the curve?)");
  key.pkey.reset(pkey, EVP_PKEY_free);
  if (key.kty == "RSA" && EVP_PKEY_get_bits(pkey) < kMinRsaBits)
    return Status::InvalidArgument("RSA key " + key.kid + " has fewer than 2048 bits");
  return key;
}

// Which key type an algorithm needs.
bool KeyFits(const KeySet::Key& key, const std::string& alg) {
  if (!key.alg.empty() && key.alg != alg) return false;  // the JWK pins its algorithm
  if (alg == "RS256" || alg == "PS256") return key.kty == "RSA";
  if (alg == "ES256") return key.kty == "EC" && key.crv == "P-256";
  if (alg == "EdDSA") return key.kty == "OKP" && key.crv == "Ed25519";
  return false;
}

// JOSE's ECDSA signature is r || s (32 bytes each); OpenSSL wants DER.
std::optional<Bytes> EcdsaToDer(const Bytes& sig) {
  if (sig.size() != 64) return std::nullopt;
  EcdsaSig s(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(sig.data(), 32, nullptr);
  BIGNUM* v = BN_bin2bn(sig.data() + 32, 32, nullptr);
  if (!s || !r || !v || ECDSA_SIG_set0(s.get(), r, v) != 1) {
    BN_free(r);
    BN_free(v);
    return std::nullopt;
  }
  int n = i2d_ECDSA_SIG(s.get(), nullptr);
  if (n <= 0) return std::nullopt;
  Bytes der(static_cast<size_t>(n));
  unsigned char* p = der.data();
  i2d_ECDSA_SIG(s.get(), &p);
  return der;
}

bool VerifySignature(const KeySet::Key& key, const std::string& alg, std::string_view signed_part, const Bytes& sig) {
  MdCtx md(EVP_MD_CTX_new());
  if (!md) return false;
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* digest = alg == "EdDSA" ? nullptr : EVP_sha256();
  if (EVP_DigestVerifyInit(md.get(), &pctx, digest, nullptr, key.pkey.get()) != 1) return false;
  if (alg == "RS256" && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) return false;
  if (alg == "PS256" && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1 ||
                         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) != 1))  // RFC 7518: salt = hash size
    return false;
  Bytes der;
  const Bytes* s = &sig;
  if (alg == "ES256") {
    auto converted = EcdsaToDer(sig);
    if (!converted) return false;
    der = std::move(*converted);
    s = &der;
  }
  return EVP_DigestVerify(md.get(), s->data(), s->size(), reinterpret_cast<const unsigned char*>(signed_part.data()),
                          signed_part.size()) == 1;
}

struct Parts {
  std::string_view header, payload, signature, signed_part;
};

Result<Parts> Split(std::string_view token) {
  size_t a = token.find('.');
  size_t b = a == std::string_view::npos ? a : token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos)
    return Status::Unauthenticated("the token is not a signed JWT (three base64url parts)");
  return Parts{token.substr(0, a), token.substr(a + 1, b - a - 1), token.substr(b + 1), token.substr(0, b)};
}

Result<json> DecodeJson(std::string_view part, const char* what) {
  auto raw = Base64UrlDecode(part);
  if (!raw) return Status::Unauthenticated(std::string("the token's ") + what + " is not base64url");
  json j = json::parse(raw->begin(), raw->end(), nullptr, false);
  if (!j.is_object()) return Status::Unauthenticated(std::string("the token's ") + what + " is not a JSON object");
  return j;
}

bool HasAudience(const json& claims, const std::vector<std::string>& audiences) {
  auto aud = claims.find("aud");
  if (aud == claims.end()) return false;
  auto ok = [&](const json& v) {
    return v.is_string() && std::find(audiences.begin(), audiences.end(), v.get<std::string>()) != audiences.end();
  };
  if (aud->is_array()) return std::any_of(aud->begin(), aud->end(), ok);
  return ok(*aud);
}

}  // namespace

Result<KeySet> KeySet::Parse(std::string_view text) {
  json doc = json::parse(text, nullptr, false);
  if (!doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array())
    return Status::InvalidArgument("not a JWK Set: no \"keys\" array");
  KeySet set;
  for (const auto& jwk : doc["keys"]) {
    auto key = ParseKey(jwk);
    if (key.ok()) {
      set.keys_.push_back(std::make_shared<const Key>(std::move(*key)));
    } else {
      if (set.skipped_++ == 0) set.skip_reason_ = key.status().message();
    }
  }
  return set;
}

const KeySet::Key* KeySet::Find(std::string_view kid) const {
  for (const auto& k : keys_)
    if (k->kid == kid) return k.get();
  return nullptr;
}

Result<std::string> JwtKeyId(std::string_view token) {
  auto parts = Split(token);
  if (!parts.ok()) return parts.status();
  auto header = DecodeJson(parts->header, "header");
  if (!header.ok()) return header.status();
  return Text(*header, "kid");
}

Result<VerifiedJwt> VerifyJwt(std::string_view token, const KeySet& keys, const JwtPolicy& policy, int64_t now) {
  auto parts = Split(token);
  if (!parts.ok()) return parts.status();
  auto header = DecodeJson(parts->header, "header");
  if (!header.ok()) return header.status();
  VerifiedJwt out;
  out.algorithm = Text(*header, "alg");
  if (std::find(policy.algorithms.begin(), policy.algorithms.end(), out.algorithm) == policy.algorithms.end())
    return Status::Unauthenticated("algorithm '" + out.algorithm.substr(0, 20) + "' is not allowed");
  // Keys named by the token itself would let it vouch for itself.
  for (const char* h : {"jku", "x5u", "jwk", "x5c"})
    if (header->contains(h)) return Status::Unauthenticated(std::string("the token names its own key ('") + h + "'): refused");
  if (header->contains("crit")) return Status::Unauthenticated("the token has critical header extensions this server does not know");
  if (auto typ = Text(*header, "typ"); !typ.empty() && typ != "JWT" && typ != "at+jwt" && typ != "application/at+jwt")
    return Status::Unauthenticated("the token's type '" + typ.substr(0, 40) + "' is not a JWT");
  out.key_id = Text(*header, "kid");
  if (out.key_id.empty()) return Status::Unauthenticated("the token names no key (no kid)");
  const KeySet::Key* key = keys.Find(out.key_id);
  if (!key) return Status::Unauthenticated("unknown key id '" + out.key_id.substr(0, 80) + "'");
  if (!KeyFits(*key, out.algorithm))
    return Status::Unauthenticated("key '" + key->kid + "' is not a key for " + out.algorithm);
  auto sig = Base64UrlDecode(parts->signature);
  if (!sig || !VerifySignature(*key, out.algorithm, parts->signed_part, *sig))
    return Status::Unauthenticated("the signature does not verify");

  auto claims = DecodeJson(parts->payload, "payload");
  if (!claims.ok()) return claims.status();
  out.issuer = Text(*claims, "iss");
  if (out.issuer != policy.issuer) return Status::Unauthenticated("the token is from another issuer ('" + out.issuer.substr(0, 200) + "')");
  if (!HasAudience(*claims, policy.audiences)) return Status::Unauthenticated("the token is for another audience");
  auto exp = claims->find("exp");
  const auto expires = exp == claims->end() ? std::nullopt : JsonInteger<int64_t>(*exp);
  if (!expires) return Status::Unauthenticated("the token has no expiry (exp), or it is not whole seconds");
  out.expires_at = *expires;
  if (*expires > INT64_MAX / 2) return Status::Unauthenticated("the token's expiry (exp) is out of range");
  if (now >= out.expires_at + policy.clock_skew_seconds) return Status::Unauthenticated("the token has expired");
  if (auto nbf = claims->find("nbf"); nbf != claims->end()) {
    const auto not_before = JsonInteger<int64_t>(*nbf);
    if (!not_before) return Status::Unauthenticated("the token's nbf is not whole seconds");
    if (now + policy.clock_skew_seconds < *not_before) return Status::Unauthenticated("the token is not valid yet (nbf)");
  }
  out.subject = Text(*claims, "sub");
  out.claims_json = claims->dump();
  return out;
}

}  // namespace backspan::auth
