// The gate every request but the health checks and the UI's files passes
// first, before its body or its content type is looked at: a request that
// is refused learns nothing about the endpoint.
#include <string_view>

#include "auth/access_policy.h"
#include "observatory/api/server_context.h"
#include "util/json_limits.h"

namespace backspan::observatory {

AccessDecision ServerContext::Admit(const http::Request& req, const char* permission, const std::string& action,
                                    bool audit_allowed) {
  AccessDecision who;
  const std::string bearer = http::AuthorizationCredentials(req, "Bearer");
  // A job this server runs exports its own trace, in its plan's scope only.
  // (By text: a permission's pointer differs between translation units.)
  if (std::string_view(permission) == auth::kIngest && runner && bearer.rfind("run.", 0) == 0)
    if (auto scope = runner->IngestScope(bearer)) {
      who.scope = *scope;
      who.principal.subject = "backspan-run";
      return who;
    }
  if (!options.access) {
    who.scope = Scope::All();
    return who;
  }
  who = options.access->Check(bearer, permission, action, req.path, req.remote_addr, audit_allowed);
  if (who.status != 200) counters.requests_rejected++;
  return who;
}

void ServerContext::AuditOutcome(const AccessDecision& who, const std::string& action, const http::Request& req,
                                 const std::string& result, const std::string& detail) {
  if (options.access) options.access->Audit(who, action, req.path, req.remote_addr, result, detail);
}

MemoryBudget::Lease ServerContext::Reserve(std::string_view body, bool json, size_t copies) {
  uint64_t need = static_cast<uint64_t>(body.size()) * kOtlpDecodeAmplification;
  if (json) {
    // What is not JSON within the bounds is refused before any tree is built.
    const std::optional<size_t> tree = JsonTreeSize(body);
    need = body.size() + (tree ? *tree * copies : 0);
  }
  return decoding.Acquire(need, std::chrono::seconds(10));
}

void AnswerJson(http::Response& res, const ApiResponse& r) {
  res.Set(r.status, r.body, "application/json");
  res.AddHeader("Cache-Control", "no-store");
  if (r.status == 503) res.AddHeader("Retry-After", "5");
}

void AnswerRefusal(http::Response& res, const AccessDecision& who) {
  AnswerJson(res, ApiError(who.status, who.error));
  if (who.status == 401) res.AddHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
}

}  // namespace backspan::observatory
