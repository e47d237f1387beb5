#include "test_tokens.h"

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/rsa.h>

#include "util/hex.h"

namespace backspan::testing {

using nlohmann::json;

std::string B64(const Bytes& b) { return Base64UrlEncode(ByteView(b.data(), b.size())); }
std::string B64(const std::string& s) { return Base64UrlEncode(ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size())); }

namespace {

Bytes BnParam(EVP_PKEY* k, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(k, name, &bn) != 1) return {};
  Bytes out(static_cast<size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, out.data());
  BN_free(bn);
  return out;
}

}  // namespace


TestKey TestKey::Make(const std::string& kid, const std::string& alg, int rsa_bits) {
  EVP_PKEY* k = alg == "ES256"   ? EVP_EC_gen("P-256")
                : alg == "EdDSA" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                                 : EVP_RSA_gen(static_cast<unsigned>(rsa_bits));
  return {kid, alg, std::shared_ptr<EVP_PKEY>(k, EVP_PKEY_free)};
}

json TestKey::Jwk() const {
  json j = {{"kid", kid}, {"use", "sig"}};
  if (alg == "ES256") {
    uint8_t point[65];
    size_t n = 0;
    EVP_PKEY_get_octet_string_param(pkey.get(), OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &n);
    j.update({{"kty", "EC"}, {"crv", "P-256"}, {"x", B64(Bytes(point + 1, point + 33))}, {"y", B64(Bytes(point + 33, point + 65))}});
  } else if (alg == "EdDSA") {
    Bytes x(32);
    size_t n = 32;
    EVP_PKEY_get_raw_public_key(pkey.get(), x.data(), &n);
    j.update({{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", B64(x)}});
  } else {
    j.update({{"kty", "RSA"}, {"n", B64(BnParam(pkey.get(), OSSL_PKEY_PARAM_RSA_N))}, {"e", B64(BnParam(pkey.get(), OSSL_PKEY_PARAM_RSA_E))}});
  }
  return j;
}

Bytes TestKey::Sign(const std::string& data, const std::string& as_alg) const {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  EVP_DigestSignInit(md, &pctx, as_alg == "EdDSA" ? nullptr : EVP_sha256(), nullptr, pkey.get());
  if (as_alg == "PS256") {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32);
  }
  size_t n = 0;
  EVP_DigestSign(md, nullptr, &n, reinterpret_cast<const uint8_t*>(data.data()), data.size());
  Bytes sig(n);
  EVP_DigestSign(md, sig.data(), &n, reinterpret_cast<const uint8_t*>(data.data()), data.size());
  sig.resize(n);
  EVP_MD_CTX_free(md);
  if (as_alg == "ES256") {  // DER to JOSE's r || s
    const uint8_t* p = sig.data();
    ECDSA_SIG* s = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    Bytes rs(64);
    BN_bn2binpad(ECDSA_SIG_get0_r(s), rs.data(), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(s), rs.data() + 32, 32);
    ECDSA_SIG_free(s);
    return rs;
  }
  return sig;
}

std::string SignJwt(const TestKey& key, json claims, json header, std::string alg) {
  if (alg.empty()) alg = key.alg;
  json h = {{"alg", alg}, {"kid", key.kid}, {"typ", "JWT"}};
  h.update(header);
  std::string signed_part = B64(h.dump()) + "." + B64(claims.dump());
  return signed_part + "." + B64(key.Sign(signed_part, alg));
}

}  // namespace backspan::testing
