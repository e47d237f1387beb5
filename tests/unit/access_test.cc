// The observatory's access control below HTTP: a token from the provider
// becomes a principal and, per permission, the scope its roles grant; a
// missing, forged or expired token is a 401, a permission held nowhere a
// 403; every denial is audited; a new configuration is validated before it
// replaces the old one.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "env/env.h"
#include "observatory/access/access_control.h"
#include "test_tokens.h"
#include "test_util.h"

namespace backspan::observatory {
namespace {

using nlohmann::json;
constexpr char kIssuer[] = "https://idp.example";

const char kConfig[] = R"({
  "roles": {"Trace Viewer": ["traces.read"]},
  "assignments": [
    {"principal": "user:alice", "role": "Trace Viewer", "scope": {"resource_groups": ["rg-prod"]}},
    {"principal": "user:bob", "role": "Owner", "scope": "*"},
    {"principal": "group:dev-team", "role": "Trace Viewer", "scope": {"tags": {"env": "dev"}}}
  ]
})";

class AccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::WriteFile(dir_.Sub("access.json"), kConfig);
    AccessOptions o;
    o.jwt.issuer = kIssuer;
    o.jwt.audiences = {"backspan"};
    o.policy_file = dir_.Sub("access.json");
    o.audit_dir = dir_.Sub("audit");
    // The provider: its discovery document and its keys, served here.
    auth::Fetch fetch = [this](const std::string& url) -> Result<std::string> {
      if (url == std::string(kIssuer) + "/.well-known/openid-configuration")
        return json{{"issuer", kIssuer}, {"jwks_uri", std::string(kIssuer) + "/keys"}}.dump();
      if (url == std::string(kIssuer) + "/keys") return json{{"keys", {key_.Jwk()}}}.dump();
      return Status::NotFound(url);
    };
    auto created = AccessControl::Create(o, fetch, Env::Default());
    ASSERT_TRUE(created.ok()) << created.status().message();
    access_ = std::move(*created);
  }

  std::string TokenFor(const std::string& sub, json extra = json::object(), const testing::TestKey* key = nullptr) {
    const int64_t now = Env::Default()->NowUnixNanos() / 1'000'000'000;
    json claims = {{"iss", kIssuer}, {"aud", "backspan"}, {"sub", sub}, {"exp", now + 300}, {"iat", now}};
    claims.update(extra);
    return testing::SignJwt(key ? *key : key_, claims);
  }

  AccessDecision Check(const std::string& token, const char* permission) {
    return access_->Check(token, permission, permission, "/api/v1/jobs", "127.0.0.1");
  }

  testing::TempDir dir_;
  testing::TestKey key_ = testing::TestKey::Make("key-1", "RS256");
  std::unique_ptr<AccessControl> access_;
};

TEST_F(AccessTest, RolesGiveEachPermissionItsScope) {
  const AccessDecision alice = Check(TokenFor("alice"), auth::kRead);
  EXPECT_EQ(alice.status, 200) << alice.error;
  EXPECT_FALSE(alice.scope.unrestricted);
  EXPECT_EQ(alice.scope.resource_groups, std::vector<std::string>{"rg-prod"});
  EXPECT_FALSE(alice.scope.audit);  // audit.read is not hers

  const AccessDecision bob = Check(TokenFor("bob"), auth::kRead);
  EXPECT_EQ(bob.status, 200);
  EXPECT_TRUE(bob.scope.AllowsEverything());

  const AccessDecision dev = Check(TokenFor("carol", {{"groups", {"dev-team"}}}), auth::kRead);
  EXPECT_EQ(dev.status, 200) << dev.error;
  EXPECT_EQ(dev.scope.selectors, (std::vector<Tag>{{"env", "dev"}}));

  // A permission the roles grant nowhere: 403, naming it.
  const AccessDecision write = Check(TokenFor("alice"), auth::kRoles);
  EXPECT_EQ(write.status, 403);
  EXPECT_NE(write.error.find("roles.write"), std::string::npos) << write.error;
}

TEST_F(AccessTest, NoForgedOrExpiredTokenIsA401) {
  EXPECT_EQ(Check("", auth::kRead).status, 401);
  const testing::TestKey other = testing::TestKey::Make("key-1", "RS256");  // claims our key's id
  EXPECT_EQ(Check(TokenFor("bob", json::object(), &other), auth::kRead).status, 401);
  EXPECT_EQ(Check(TokenFor("bob", {{"exp", 1'000'000'000}}), auth::kRead).status, 401);
  EXPECT_EQ(Check(TokenFor("bob", {{"aud", "someone-else"}}), auth::kRead).status, 401);
  EXPECT_EQ(Check("not.a.token", auth::kRead).status, 401);
}

TEST_F(AccessTest, DenialsAreAudited) {
  (void)Check("", auth::kRead);
  (void)Check(TokenFor("alice"), auth::kRoles);
  (void)Check(TokenFor("bob"), auth::kRead);
  audit::AuditFilter denied;
  denied.result = "denied";
  auto records = access_->ListAudit(denied);
  ASSERT_TRUE(records.ok()) << records.status().message();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[1].subject, "alice");
  EXPECT_EQ((*records)[1].client, "127.0.0.1");
  audit::AuditFilter allowed;
  allowed.result = "allowed";
  EXPECT_EQ(access_->ListAudit(allowed)->size(), 1u);
}

TEST_F(AccessTest, ANewConfigurationIsValidatedBeforeItReplacesTheOld) {
  const Status bad = access_->ReplaceConfig(R"({"assignments": [{"principal": "user:alice", "role": "No Such Role", "scope": "*"}]})");
  EXPECT_EQ(bad.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("No Such Role"), std::string::npos) << bad.message();
  EXPECT_EQ(testing::ReadFile(dir_.Sub("access.json")), kConfig);  // unchanged
  EXPECT_EQ(Check(TokenFor("alice"), auth::kRead).status, 200);

  ASSERT_TRUE(access_->ReplaceConfig(R"({"assignments": [{"principal": "user:alice", "role": "Owner", "scope": "*"}]})").ok());
  const AccessDecision alice = Check(TokenFor("alice"), auth::kRoles);  // in force for the next request
  EXPECT_EQ(alice.status, 200) << alice.error;
  EXPECT_EQ(Check(TokenFor("bob"), auth::kRead).status, 403);  // bob's assignment is gone
}

}  // namespace
}  // namespace backspan::observatory
