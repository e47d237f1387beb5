#include "observatory/access/access_control.h"

#include <cstdio>

#include "env/env.h"

namespace backspan::observatory {
namespace {

Result<std::shared_ptr<const auth::AccessPolicy>> LoadPolicy(Env* env, const std::string& path) {
  auto data = ReadWholeFile(env, path);
  if (!data.ok()) return data.status().WithContext("reading the access configuration");
  auto policy = auth::AccessPolicy::Parse(std::string_view(reinterpret_cast<const char*>(data->data()), data->size()));
  if (!policy.ok()) return policy.status().WithContext(path);
  return std::make_shared<const auth::AccessPolicy>(std::move(*policy));
}

// "*", or the groups and selectors, as the audit log records them.
std::string DescribeScope(const Scope& s) {
  auth::AccessScope a;
  a.all = s.unrestricted;
  a.resource_groups = s.resource_groups;
  a.tags = s.selectors;
  return a.Describe();
}

}  // namespace

Scope ToScope(const auth::AccessScope& s) {
  if (s.all) return Scope::All();
  return Scope::Of(s.resource_groups, s.tags);
}

Result<std::unique_ptr<AccessControl>> AccessControl::Create(AccessOptions options, auth::Fetch fetch, Env* env) {
  std::unique_ptr<AccessControl> ac(new AccessControl(std::move(options), env));
  auto policy = LoadPolicy(env, ac->options_.policy_file);
  if (!policy.ok()) return policy.status();
  ac->policy_ = std::move(*policy);
  if (auto st = env->Lstat(ac->options_.policy_file); st.ok()) ac->policy_mtime_ns_ = st->mtime_ns;
  ac->verifier_ = std::make_unique<auth::TokenVerifier>(
      ac->options_.jwt, std::make_unique<auth::OidcKeys>(ac->options_.jwt.issuer, std::move(fetch), env), env);
  auto log = audit::AuditLog::Open(env, ac->options_.audit_dir);
  if (!log.ok()) return log.status();
  ac->audit_ = std::move(*log);
  return ac;
}

std::shared_ptr<const auth::AccessPolicy> AccessControl::Policy() {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = env_->MonotonicNanos();
  if (now - policy_checked_ns_ >= 1'000'000'000) {
    policy_checked_ns_ = now;
    auto st = env_->Lstat(options_.policy_file);
    if (st.ok() && st->mtime_ns != policy_mtime_ns_) {
      // A bad edit keeps the last good policy: access does not fall open or shut.
      auto fresh = LoadPolicy(env_, options_.policy_file);
      policy_mtime_ns_ = st->mtime_ns;
      if (fresh.ok()) {
        policy_ = std::move(*fresh);
        reloads_.push_back({"allowed", ""});
      } else {
        std::fprintf(stderr, "warning: keeping the previous access configuration: %s\n", fresh.status().message().c_str());
        reloads_.push_back({"error", "kept the previous configuration: " + fresh.status().message()});
      }
    }
  }
  return policy_;
}

Result<std::string> AccessControl::ConfigText() {
  auto data = ReadWholeFile(env_, options_.policy_file);
  if (!data.ok()) return data.status().WithContext("reading the access configuration");
  return std::string(data->begin(), data->end());
}

Status AccessControl::ReplaceConfig(std::string_view text) {
  auto policy = auth::AccessPolicy::Parse(text);
  if (!policy.ok()) return policy.status();
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(WriteFileAtomic(env_, options_.policy_file,
                                  ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size()))
                      .WithContext("writing the access configuration"));
  policy_ = std::make_shared<const auth::AccessPolicy>(std::move(*policy));
  // Seen as it is now: the next check does not reload (and audit) it again.
  if (auto st = env_->Lstat(options_.policy_file); st.ok()) policy_mtime_ns_ = st->mtime_ns;
  return Status::Ok();
}

Result<std::vector<audit::AuditRecord>> AccessControl::ListAudit(const audit::AuditFilter& filter) {
  return audit::ListAuditLog(env_, options_.audit_dir, filter);
}

void AccessControl::Audit(const AccessDecision& who, const std::string& action, const std::string& resource,
                          const std::string& client, const std::string& result, const std::string& detail) {
  audit::AuditRecord r;
  r.issuer = who.principal.issuer;
  r.subject = who.principal.subject;
  r.name = who.principal.name.empty() ? who.principal.app : who.principal.name;
  r.action = action;
  r.scope = DescribeScope(who.scope);
  r.resource = resource;
  r.result = result;
  r.client = client;
  r.detail = detail;
  auto written = audit_->Append(std::move(r));
  if (!written.ok()) {
    std::fprintf(stderr, "error: cannot write the audit log: %s\n", written.status().message().c_str());
    return;
  }
  if (on_record_) on_record_(*written);
}

void AccessControl::AuditReloads() {
  std::vector<std::pair<std::string, std::string>> reloads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    reloads.swap(reloads_);
  }
  AccessDecision server;
  server.principal.name = "backspan serve";
  server.scope = Scope::All();
  for (const auto& [result, detail] : reloads)
    Audit(server, "config.reload", options_.policy_file, "", result, detail);
}

AccessDecision AccessControl::Check(const std::string& bearer_token, const char* permission, const std::string& action,
                                    const std::string& resource, const std::string& client, bool audit_allowed) {
  AccessDecision d;
  d.scope = Scope::Of({}, {});
  auto deny = [&](int status, std::string why) {
    d.status = status;
    d.error = std::move(why);
    Audit(d, action, resource, client, "denied", d.error);
    return d;
  };
  if (bearer_token.empty()) return deny(401, "no bearer token (Authorization: Bearer ...)");
  auto token = verifier_->Verify(bearer_token);
  if (!token.ok()) return deny(401, token.status().message());
  auto policy = Policy();
  AuditReloads();
  d.principal = auth::PrincipalFromClaims(token->claims_json, token->issuer, policy->claims());
  if (!policy->TenantAllowed(d.principal)) return deny(401, "the token is for another tenant ('" + d.principal.tenant + "')");
  auth::AccessScope scope = policy->ScopeFor(d.principal, permission);
  if (scope.empty()) return deny(403, std::string("no role grants ") + permission + " to this caller anywhere");
  d.scope = ToScope(scope);
  d.scope.audit = !policy->ScopeFor(d.principal, auth::kAudit).empty();
  if (audit_allowed) Audit(d, action, resource, client, "allowed", "");
  return d;
}

}  // namespace backspan::observatory
