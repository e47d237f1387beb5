// Bearer tokens: any bytes as a compact JWS, and (by the first byte) any
// bytes as the claims of a token signed with a key the JWK Set trusts, so
// that the checks behind the signature (iss, aud, exp, nbf, sub) are
// reached too. The key is made at start-up: none is kept in the tree.
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "auth/jwt.h"
#include "fuzz.h"
#include "util/hex.h"

using namespace backspan;

namespace {

EVP_PKEY* g_key = nullptr;
auth::KeySet* g_keys = nullptr;

std::string B64(std::string_view s) {
  std::string out = Base64Encode(ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

std::string Coordinate(const char* name) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(g_key, name, &bn);
  unsigned char buf[32] = {};
  BN_bn2binpad(bn, buf, 32);
  BN_free(bn);
  return B64(std::string_view(reinterpret_cast<char*>(buf), 32));
}

// ES256 over `input`: r || s, 32 bytes each (RFC 7518 §3.4).
std::string Sign(const std::string& input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, g_key);
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
  std::string der(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  EVP_MD_CTX_free(ctx);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len));
  unsigned char rs[64] = {};
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), rs, 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), rs + 32, 32);
  ECDSA_SIG_free(sig);
  return B64(std::string_view(reinterpret_cast<char*>(rs), 64));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  const std::string jwks = R"({"keys":[{"kty":"EC","crv":"P-256","kid":"k1","use":"sig","alg":"ES256","x":")" +
                           Coordinate(OSSL_PKEY_PARAM_EC_PUB_X) + R"(","y":")" + Coordinate(OSSL_PKEY_PARAM_EC_PUB_Y) +
                           R"("}]})";
  auto keys = auth::KeySet::Parse(jwks);
  BACKSPAN_FUZZ_CHECK(keys.ok() && keys->size() == 1);
  g_keys = new auth::KeySet(std::move(*keys));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auth::JwtPolicy policy;
  policy.issuer = "https://issuer.test";
  policy.audiences = {"backspan"};
  const std::string_view in = fuzz::Text(data + 1, size - 1);
  std::string token(in);
  if (data[0] & 1) {  // the input is the claims of a validly signed token
    const std::string signing_input = B64(R"({"alg":"ES256","kid":"k1","typ":"JWT"})") + "." + B64(in);
    token = signing_input + "." + Sign(signing_input);
  }
  (void)auth::JwtKeyId(token);
  auto verified = auth::VerifyJwt(token, *g_keys, policy, 1'790'000'000);
  if (verified.ok()) BACKSPAN_FUZZ_CHECK(verified->issuer == policy.issuer && (data[0] & 1));
  return 0;
}
