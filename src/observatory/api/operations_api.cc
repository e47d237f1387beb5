#include "observatory/api/operations_api.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

#include "audit/audit_log.h"
#include "env/env.h"
#include "observatory/access/access_control.h"
#include "observatory/api/json_text.h"
#include "observatory/ops/job_runner.h"
#include "observatory/ops/plans.h"
#include "util/json_number.h"
#include "util/time_format.h"

namespace backspan::observatory {
namespace {

using json = nlohmann::json;

ApiResponse NoPlans() { return ApiError(404, "no backup plans are configured (backspan serve --plans FILE)"); }

// The plan, if the caller's scope reaches it; a plan outside the scope is
// answered as missing, so callers learn nothing about other scopes.
Result<Plan> PlanInScope(const PlanBook& plans, const std::string& name, const Scope& scope) {
  auto plan = plans.Find(name);
  if (!plan.ok() || !plan->InScope(scope)) return Status::NotFound("no plan named '" + name + "' in your scope");
  return plan;
}

bool IsSnapshotRef(const std::string& s) {
  return s == "latest" || (!s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
  }));
}

// A restore target below the plan's restore root: relative, with no "."
// or ".." parts, so it cannot climb out.
bool IsSafeRelativePath(const std::string& s) {
  if (s.empty() || s.size() > 512 || s.front() == '/') return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t slash = s.find('/', start);
    const std::string part = s.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part.empty() || part == "." || part == ".." || part.find('\0') != std::string::npos) return false;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return true;
}

}  // namespace

ApiResponse OperationsApi::Plans(const Scope& scope) const {
  if (!plans_) return NoPlans();
  json list = json::array();
  for (const auto& p : plans_->InScope(scope)) list.push_back(json::parse(p.ToJson()));
  return {200, JsonText({{"plans", list}})};
}

ApiResponse OperationsApi::Trigger(const std::string& name, const std::string& command, const std::string& body,
                                   const Scope& scope, const std::string& subject) const {
  if (!plans_ || !runner_) return NoPlans();
  auto plan = PlanInScope(*plans_, name, scope);
  if (!plan.ok()) return ApiError(404, plan.status().message());
  RunRequest req;
  req.plan = *plan;
  req.command = command;
  req.triggered_by = subject;
  if (command == "backup") {
    req.args = BackupArgs(*plan);
  } else if (command == "forget") {
    if (plan->retention.empty())
      return ApiError(409, "plan '" + name + "' has no retention policy: set one with PUT /api/v1/plans/" + name + "/retention");
    req.args = ForgetArgs(*plan);
  } else {
    if (plan->restore_root.empty())
      return ApiError(409, "plan '" + name + "' has no restore_root: restores through the API are off for it");
    json j = json::parse(body.empty() ? "{}" : body, nullptr, false);
    if (!j.is_object()) return ApiError(400, "the body must be a JSON object: {\"snapshot\": ..., \"target\": ...}");
    const auto snapshot_field = StringField(j, "snapshot", "latest");
    const auto target_field = StringField(j, "target", "");
    if (!snapshot_field || !target_field) return ApiError(400, "'snapshot' and 'target' must be strings");
    const std::string snapshot = *snapshot_field;
    if (!IsSnapshotRef(snapshot)) return ApiError(400, "'snapshot' must be \"latest\" or a snapshot id (lower-case hex)");
    std::string target = *target_field;
    if (target.empty()) target = name + "-" + snapshot + "-" + FormatRfc3339(env_->NowUnixNanos()).substr(0, 19);
    std::replace(target.begin(), target.end(), ':', '-');
    if (!IsSafeRelativePath(target))
      return ApiError(400, "'target' must be a relative path below the plan's restore_root, without '.' or '..'");
    const std::string dir = plan->restore_root + "/" + target;
    if (env_->Exists(dir)) return ApiError(409, "the restore target " + dir + " exists already");
    req.args = RestoreArgs(*plan, snapshot, dir);
  }
  auto run = runner_->Start(req);
  if (!run.ok())
    return ApiErrorFor(run.status());
  return {202, run->ToJson()};
}

ApiResponse OperationsApi::SetRetention(const std::string& name, const std::string& body, const Scope& scope) const {
  if (!plans_) return NoPlans();
  auto plan = PlanInScope(*plans_, name, scope);
  if (!plan.ok()) return ApiError(404, plan.status().message());
  auto retention = ParseRetention(body);
  if (!retention.ok()) return ApiError(400, retention.status().message());
  if (Status s = plans_->SetRetention(name, *retention); !s.ok()) return ApiErrorFor(s);
  plan->retention = std::move(*retention);
  return {200, plan->ToJson()};
}

ApiResponse OperationsApi::Runs(const Scope& scope) const {
  if (!runner_) return NoPlans();
  json list = json::array();
  for (const auto& r : runner_->List())
    if (TagsInScope(r.plan_tags, scope)) list.push_back(json::parse(r.ToJson()));
  return {200, JsonText({{"runs", list}})};
}

ApiResponse OperationsApi::Run(const std::string& id, const Scope& scope) const {
  if (!runner_) return NoPlans();
  auto run = runner_->Get(id);
  if (!run || !TagsInScope(run->plan_tags, scope)) return ApiError(404, "no run '" + id + "' in your scope");
  return {200, run->ToJson()};
}

ApiResponse OperationsApi::GetAccess(const Scope& scope) const {
  if (!access_) return ApiError(404, "access control is off (backspan serve --oidc-issuer ... --access-config FILE)");
  if (!scope.unrestricted) return ApiError(403, "role assignments take roles.write at scope \"*\"");
  auto text = access_->ConfigText();
  if (!text.ok()) return ApiErrorFor(text.status());
  return {200, *text};
}

ApiResponse OperationsApi::PutAccess(const std::string& body, const Scope& scope) const {
  if (!access_) return ApiError(404, "access control is off (backspan serve --oidc-issuer ... --access-config FILE)");
  if (!scope.unrestricted) return ApiError(403, "role assignments take roles.write at scope \"*\"");
  Status s = access_->ReplaceConfig(body);
  if (!s.ok()) return ApiErrorFor(s);
  return {200, JsonText({{"replaced", true}})};
}

ApiResponse OperationsApi::Audit(const ApiRequest& req) const {
  if (!access_) return ApiError(404, "access control is off: there is no audit log");
  audit::AuditFilter f;
  auto param = [&](const char* key) {
    auto it = req.params.find(key);
    return it == req.params.end() ? std::string() : it->second;
  };
  if (std::string since = param("since"); !since.empty()) {
    auto d = ParseDuration(since);
    auto t = d ? std::optional<int64_t>(env_->NowUnixNanos() - *d) : ParseUserTime(since);
    if (!t) return ApiError(400, "'since' must be a duration such as 24h, or a time");
    f.since_ns = *t;
  }
  f.subject = param("subject");
  f.action = param("action");
  f.result = param("result");
  if (std::string limit = param("limit"); !limit.empty()) {
    f.limit = std::atoi(limit.c_str());
    if (f.limit <= 0 || f.limit > 100000) return ApiError(400, "'limit' must be between 1 and 100000");
  }
  auto records = access_->ListAudit(f);
  if (!records.ok()) return ApiErrorFor(records.status());
  std::string out = "{\"records\":[";
  for (size_t i = 0; i < records->size(); ++i) {
    if (i) out += ',';
    out += audit::RecordJson((*records)[i]);
  }
  out += "]}";
  return {200, out};
}

}  // namespace backspan::observatory
