// Access control for `backspan serve`: a request's bearer token is verified
// against the OIDC provider's keys, the caller's roles give the scope in
// which it may do what the endpoint needs, and every decision on a request
// that reads traces, writes them or is denied lands in the audit log.
// Without an issuer configured, nothing is checked (loopback only, unless
// --insecure-no-auth).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "auth/access_policy.h"
#include "auth/oidc.h"
#include "audit/audit_log.h"
#include "observatory/access/scope.h"

namespace backspan {
class Env;
}

namespace backspan::observatory {

struct AccessOptions {
  auth::JwtPolicy jwt;          // issuer, audiences, skew, algorithms
  std::string policy_file;      // the access configuration; re-read when it changes
  std::string audit_dir;
};

// The outcome of checking one request.
struct AccessDecision {
  int status = 200;          // 200, or 401 (no valid token) / 403 (no such permission anywhere)
  std::string error;         // why not
  auth::Principal principal;
  Scope scope;               // where the permission holds
};

class AccessControl {
 public:
  // Loads the policy and opens the audit log. InvalidArgument for a bad
  // policy file; Corruption if the audit log was tampered with.
  static Result<std::unique_ptr<AccessControl>> Create(AccessOptions options, auth::Fetch fetch, Env* env);

  // Checks `bearer_token` (the credentials of the Authorization header's
  // Bearer scheme; empty if there were none) for `permission`, and audits
  // the decision as `action` on `resource` from `client`; an allowed one
  // only if `audit_allowed` (else the caller audits the outcome itself).
  AccessDecision Check(const std::string& bearer_token, const char* permission, const std::string& action,
                       const std::string& resource, const std::string& client, bool audit_allowed = true);

  // Audits what an allowed request then refused in part (spans outside
  // the caller's scope), or an error.
  void Audit(const AccessDecision& who, const std::string& action, const std::string& resource, const std::string& client,
             const std::string& result, const std::string& detail);

  // The access configuration file's text, as it is now.
  Result<std::string> ConfigText();
  // Replaces the access configuration with `text` (validated first; written
  // atomically) and applies it at once. InvalidArgument, naming what is
  // wrong, leaves file and policy as they were.
  Status ReplaceConfig(std::string_view text);

  // The audit log's records that match `filter`, oldest first.
  Result<std::vector<audit::AuditRecord>> ListAudit(const audit::AuditFilter& filter);

  // Called with each record once it is in the log (to emit it as a span);
  // set before serving. It must not block.
  void OnRecord(std::function<void(const audit::AuditRecord&)> fn) { on_record_ = std::move(fn); }

 private:
  AccessControl(AccessOptions options, Env* env) : options_(std::move(options)), env_(env) {}
  // The current policy: re-read if the file changed (checked at most once a second).
  std::shared_ptr<const auth::AccessPolicy> Policy();
  // Audits the reloads of the access configuration Policy() saw.
  void AuditReloads();

  AccessOptions options_;
  Env* env_;
  std::unique_ptr<auth::TokenVerifier> verifier_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::function<void(const audit::AuditRecord&)> on_record_;
  std::mutex mu_;
  std::shared_ptr<const auth::AccessPolicy> policy_;
  int64_t policy_mtime_ns_ = 0, policy_checked_ns_ = 0;
  std::vector<std::pair<std::string, std::string>> reloads_;  // (result, detail) not yet audited
};

// The observatory's Scope for an access scope.
Scope ToScope(const auth::AccessScope& s);

}  // namespace backspan::observatory
