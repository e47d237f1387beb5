// JWT verification: tokens signed here with OpenSSL by every allowed
// algorithm verify; each token shape RFC 8725 warns about is refused with
// its reason.
#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include <nlohmann/json.hpp>

#include "auth/jwt.h"
#include "test_tokens.h"
#include "util/hex.h"

namespace backspan::auth {
namespace {

using testing::B64;
using testing::TestKey;

using nlohmann::json;
constexpr int64_t kNow = 1'795'500'000;

json Claims() {
  return {{"iss", "https://idp.example"}, {"aud", "backspan"}, {"sub", "alice"}, {"exp", kNow + 300}, {"iat", kNow}};
}

std::string Token(const TestKey& key, json claims = Claims(), json header = json::object(), std::string alg = "") {
  return testing::SignJwt(key, std::move(claims), std::move(header), std::move(alg));
}

class JwtTest : public ::testing::Test {
 protected:
  JwtTest() {
    policy_.issuer = "https://idp.example";
    policy_.audiences = {"backspan"};
    json set = {{"keys", json::array()}};
    for (const auto* k : {&rsa_, &ps_, &ec_, &ed_}) set["keys"].push_back(k->Jwk());
    auto parsed = KeySet::Parse(set.dump());
    EXPECT_TRUE(parsed.ok());
    keys_ = std::move(*parsed);
  }
  void ExpectRefused(const std::string& token, const std::string& reason) {
    auto v = VerifyJwt(token, keys_, policy_, kNow);
    ASSERT_FALSE(v.ok()) << reason;
    EXPECT_EQ(v.status().code(), ErrorCode::kUnauthenticated);
    EXPECT_NE(v.status().message().find(reason), std::string::npos) << v.status().message();
  }

  TestKey rsa_ = TestKey::Make("rsa-1", "RS256"), ps_ = TestKey::Make("rsa-pss", "PS256"),
          ec_ = TestKey::Make("ec-1", "ES256"), ed_ = TestKey::Make("ed-1", "EdDSA");
  KeySet keys_;
  JwtPolicy policy_;
};

TEST_F(JwtTest, EveryAllowedAlgorithmVerifies) {
  for (const auto* k : {&rsa_, &ps_, &ec_, &ed_}) {
    auto v = VerifyJwt(Token(*k), keys_, policy_, kNow);
    ASSERT_TRUE(v.ok()) << k->alg << ": " << v.status().message();
    EXPECT_EQ(v->subject, "alice");
    EXPECT_EQ(v->algorithm, k->alg);
    EXPECT_EQ(v->key_id, k->kid);
  }
  json many = Claims();
  many["aud"] = {"other", "backspan"};
  EXPECT_TRUE(VerifyJwt(Token(ec_, many), keys_, policy_, kNow).ok());
  EXPECT_EQ(*JwtKeyId(Token(ed_)), "ed-1");
}

TEST_F(JwtTest, AlgorithmsOutsideTheAllowListAreRefused) {
  json h = {{"alg", "none"}, {"kid", "rsa-1"}};
  ExpectRefused(B64(h.dump()) + "." + B64(Claims().dump()) + ".", "algorithm 'none' is not allowed");
  // The classic confusion: HMAC keyed with the RSA public key's bytes.
  std::string pem_like = rsa_.Jwk()["n"];
  h = {{"alg", "HS256"}, {"kid", "rsa-1"}};
  std::string signed_part = B64(h.dump()) + "." + B64(Claims().dump());
  unsigned char mac[32];
  unsigned int n = 0;
  HMAC(EVP_sha256(), pem_like.data(), static_cast<int>(pem_like.size()),
       reinterpret_cast<const uint8_t*>(signed_part.data()), signed_part.size(), mac, &n);
  ExpectRefused(signed_part + "." + B64(Bytes(mac, mac + n)), "algorithm 'HS256' is not allowed");
  // An allowed algorithm with the wrong kind of key.
  ExpectRefused(Token(ec_, Claims(), {{"kid", "rsa-1"}}, "ES256"), "not a key for ES256");
}

TEST_F(JwtTest, TokensThatNameTheirOwnKeyAreRefused) {
  ExpectRefused(Token(rsa_, Claims(), {{"jku", "https://evil.example/jwks"}}), "names its own key ('jku')");
  ExpectRefused(Token(rsa_, Claims(), {{"x5u", "https://evil.example/cert"}}), "('x5u')");
  ExpectRefused(Token(rsa_, Claims(), {{"jwk", rsa_.Jwk()}}), "('jwk')");
  ExpectRefused(Token(rsa_, Claims(), {{"kid", "rsa-2"}}), "unknown key id 'rsa-2'");
  ExpectRefused(Token(rsa_, Claims(), {{"crit", {"exp"}}}), "critical");
}

TEST_F(JwtTest, ClaimsAreChecked) {
  json c = Claims();
  c["iss"] = "https://evil.example";
  ExpectRefused(Token(rsa_, c), "another issuer");
  c = Claims();
  c["aud"] = "someone-else";
  ExpectRefused(Token(rsa_, c), "another audience");
  c = Claims();
  c.erase("exp");
  ExpectRefused(Token(rsa_, c), "no expiry");
  c = Claims();
  c["exp"] = kNow - 61;
  ExpectRefused(Token(rsa_, c), "expired");
  c["exp"] = kNow - 30;  // within the clock skew
  EXPECT_TRUE(VerifyJwt(Token(rsa_, c), keys_, policy_, kNow).ok());
  c = Claims();
  c["nbf"] = kNow + 120;
  ExpectRefused(Token(rsa_, c), "not valid yet");
}

TEST_F(JwtTest, TamperedTokensAndOtherKeysAreRefused) {
  std::string token = Token(rsa_);
  size_t dot = token.find('.');
  json c = Claims();
  c["sub"] = "mallory";
  std::string tampered = token.substr(0, dot + 1) + B64(c.dump()) + token.substr(token.rfind('.'));
  ExpectRefused(tampered, "signature does not verify");
  // Signed by another key that claims this key's id.
  TestKey impostor = TestKey::Make("rsa-1", "RS256");
  ExpectRefused(Token(impostor), "signature does not verify");
  ExpectRefused("a.b", "three base64url parts");
  ExpectRefused("!!.e30.", "not base64url");
}

TEST(JwkSetTest, UnusableKeysAreSkippedWithAReason) {
  TestKey small = TestKey::Make("small", "RS256", 1024);
  json set = {{"keys", {small.Jwk(), {{"kid", "sym"}, {"kty", "oct"}, {"k", "c2VjcmV0"}}}}};
  auto keys = KeySet::Parse(set.dump());
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 0u);
  EXPECT_EQ(keys->skipped(), 2u);
  EXPECT_NE(keys->skip_reason().find("fewer than 2048 bits"), std::string::npos);
  EXPECT_FALSE(KeySet::Parse("{\"nope\": 1}").ok());
}

}  // namespace
}  // namespace backspan::auth

#include "auth/access_policy.h"

namespace backspan::auth {
namespace {

TEST(AccessPolicyTest, RolesScopesAndClaimsMapping) {
  auto policy = AccessPolicy::Parse(R"({
    "claims": {"subject": "oid", "app": "appid"},
    "tenant": "t1",
    "roles": {"Trace Viewer": ["traces.read"]},
    "assignments": [
      {"principal": "group:sre", "role": "Backup Reader", "scope": {"resource_groups": ["RG-Prod"]}},
      {"principal": "user:u-alice", "role": "Backup Operator", "scope": {"tags": {"env": "dev"}}},
      {"principal": "app:agent-app", "role": "Backup Operator", "scope": {"resource_groups": ["rg-prod"]}},
      {"principal": "role:Backup.Admin", "role": "Owner", "scope": "*"},
      {"principal": "group:auditors", "role": "Trace Viewer", "scope": "*"}]})");
  ASSERT_TRUE(policy.ok()) << policy.status().message();
  Principal alice = PrincipalFromClaims(R"({"oid": "u-alice", "tid": "t1", "groups": ["sre"], "name": "Alice"})",
                                        "https://login.example/t1/v2.0", policy->claims());
  EXPECT_EQ(alice.subject, "u-alice");
  AccessScope read = policy->ScopeFor(alice, kRead);
  EXPECT_FALSE(read.all);
  EXPECT_EQ(read.resource_groups, std::vector<std::string>{"rg-prod"});
  EXPECT_EQ(read.Describe(), "rg:rg-prod,env=dev");
  EXPECT_EQ(policy->ScopeFor(alice, kIngest).Describe(), "env=dev");
  EXPECT_TRUE(policy->ScopeFor(alice, kRoles).empty());
  Principal agent = PrincipalFromClaims(R"({"appid": "agent-app", "tid": "t1"})", "i", policy->claims());
  EXPECT_EQ(policy->ScopeFor(agent, kIngest).Describe(), "rg:rg-prod");
  EXPECT_TRUE(policy->ScopeFor(agent, kPolicies).empty());
  Principal admin = PrincipalFromClaims(R"({"oid": "x", "tid": "t1", "roles": "Backup.Admin"})", "i", policy->claims());
  EXPECT_TRUE(policy->ScopeFor(admin, kAudit).all);
  // Another tenant's token, even with the same claims, gets nothing.
  Principal other = PrincipalFromClaims(R"({"oid": "u-alice", "tid": "t2", "groups": ["sre"]})", "i", policy->claims());
  EXPECT_TRUE(policy->ScopeFor(other, kRead).empty());

  for (const char* bad : {R"({"assignments": [{"principal": "alice", "role": "Owner", "scope": "*"}]})",
                          R"({"assignments": [{"principal": "user:a", "role": "Janitor", "scope": "*"}]})",
                          R"({"assignments": [{"principal": "user:a", "role": "Owner"}]})",
                          R"({"roles": {"X": ["everything"]}})", R"({"rolez": {}})"}) {
    EXPECT_FALSE(AccessPolicy::Parse(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace backspan::auth
