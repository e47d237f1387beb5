#include "observatory/ops/plans.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

#include "env/env.h"
#include "retention/policy_values.h"
#include "trace/semconv.h"

namespace backspan::observatory {
namespace {

using json = nlohmann::json;

bool IsPlanName(const std::string& s) {
  return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

Result<std::map<std::string, std::string>> RetentionFromJson(const json& j) {
  if (!j.is_object()) return Status::InvalidArgument("the retention policy must be a JSON object");
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : j.items()) {
    // Checked as forget will check them, so a policy that is stored runs.
    const std::string text = value.is_number_unsigned() ? std::to_string(value.get<uint64_t>())
                             : value.is_string()        ? value.get<std::string>()
                                                        : std::string();
    if (Status s = CheckRetentionOption(key, text); !s.ok()) return s;
    out[key] = text;
  }
  return out;
}

Result<Plan> PlanFromJson(const json& j, size_t index) {
  const std::string where = "plan " + std::to_string(index + 1);
  if (!j.is_object()) return Status::InvalidArgument(where + ": not a JSON object");
  auto text = [&](const char* field, bool required, std::string* out) -> Status {
    if (!j.contains(field)) return required ? Status::InvalidArgument(where + ": '" + field + "' is missing") : Status::Ok();
    if (!j[field].is_string() || j[field].get<std::string>().empty())
      return Status::InvalidArgument(where + ": '" + field + "' must be a non-empty string");
    *out = j[field].get<std::string>();
    return Status::Ok();
  };
  Plan p;
  for (auto [field, required, out] : {std::tuple{"name", true, &p.name}, std::tuple{"repository", true, &p.repository},
                                      std::tuple{"password_file", true, &p.password_file},
                                      std::tuple{"restore_root", false, &p.restore_root}})
    if (Status s = text(field, required, out); !s.ok()) return s;
  if (!IsPlanName(p.name)) return Status::InvalidArgument(where + ": the name may hold only letters, digits, '.', '-' and '_'");
  if (!j.contains("paths") || !j["paths"].is_array() || j["paths"].empty())
    return Status::InvalidArgument("plan '" + p.name + "': 'paths' must be a non-empty list");
  for (const auto& path : j["paths"]) {
    if (!path.is_string() || path.get<std::string>().empty() || path.get<std::string>()[0] != '/')
      return Status::InvalidArgument("plan '" + p.name + "': each path must be absolute");
    p.paths.push_back(path.get<std::string>());
  }
  if (j.contains("tags")) {
    if (!j["tags"].is_object()) return Status::InvalidArgument("plan '" + p.name + "': 'tags' must be an object of strings");
    for (const auto& [k, v] : j["tags"].items()) {
      if (!v.is_string() || k.empty() || k.find_first_of("=,") != std::string::npos)
        return Status::InvalidArgument("plan '" + p.name + "': tag '" + k + "' must be KEY (no '=' or ',') with a string value");
      p.tags.emplace_back(k, v.get<std::string>());
    }
  }
  if (p.restore_root.size() && p.restore_root[0] != '/')
    return Status::InvalidArgument("plan '" + p.name + "': 'restore_root' must be absolute");
  if (j.contains("retention")) {
    auto r = RetentionFromJson(j["retention"]);
    if (!r.ok()) return r.status().WithContext("plan '" + p.name + "'");
    p.retention = std::move(*r);
  }
  return p;
}

json PlanToJson(const Plan& p, bool with_secrets) {
  json tags = json::object(), retention = json::object();
  for (const auto& [k, v] : p.tags) tags[k] = v;
  for (const auto& [k, v] : p.retention) {
    // Counts are numbers; "unlimited" and durations stay text.
    if (!v.empty() && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
      retention[k] = std::stoull(v);
    else retention[k] = v;
  }
  json j = {{"name", p.name}, {"repository", p.repository}, {"paths", p.paths}, {"tags", tags}, {"retention", retention}};
  if (!p.restore_root.empty()) j["restore_root"] = p.restore_root;
  if (with_secrets) j["password_file"] = p.password_file;
  return j;
}

}  // namespace

std::string TaggedResourceGroup(const std::vector<Tag>& tags) {
  for (const auto& [k, v] : tags)
    if (k == semconv::kAzureResourceGroupName) return v;
  return "";
}

bool TagsInScope(const std::vector<Tag>& tags, const Scope& scope) {
  return scope.Allows(TaggedResourceGroup(tags), tags, false);
}

namespace {
std::vector<std::string> TagArgs(const Plan& plan) {
  std::vector<std::string> out;
  for (const auto& [k, v] : plan.tags) {
    out.push_back("--tag");
    out.push_back(k + "=" + v);
  }
  return out;
}
}  // namespace

std::vector<std::string> BackupArgs(const Plan& plan) {
  std::vector<std::string> out = TagArgs(plan);
  out.push_back("--");
  out.insert(out.end(), plan.paths.begin(), plan.paths.end());
  return out;
}

std::vector<std::string> ForgetArgs(const Plan& plan) {
  std::vector<std::string> out = TagArgs(plan);
  for (const auto& [k, v] : plan.retention) {
    out.push_back("--" + k);
    out.push_back(v);
  }
  out.push_back("--prune");
  return out;
}

std::vector<std::string> RestoreArgs(const Plan& plan, const std::string& snapshot, const std::string& target) {
  std::vector<std::string> out = TagArgs(plan);
  out.insert(out.end(), {"--target", target, "--verify", "--", snapshot});
  return out;
}

std::string Plan::ToJson() const { return PlanToJson(*this, false).dump(); }

Result<std::map<std::string, std::string>> ParseRetention(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument("the retention policy is not valid JSON");
  return RetentionFromJson(j);
}

Result<std::vector<Plan>> ParsePlans(std::string_view text, const std::string& path) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("plans") || !j["plans"].is_array())
    return Status::InvalidArgument(path + ": not a plans file ({\"plans\": [...]})");
  std::vector<Plan> plans;
  for (size_t i = 0; i < j["plans"].size(); ++i) {
    auto plan = PlanFromJson(j["plans"][i], i);
    if (!plan.ok()) return plan.status().WithContext(path);
    for (const auto& other : plans)
      if (other.name == plan->name) return Status::InvalidArgument(path + ": two plans are named '" + plan->name + "'");
    plans.push_back(std::move(*plan));
  }
  return plans;
}

Result<std::unique_ptr<PlanBook>> PlanBook::Load(Env* env, const std::string& path) {
  std::unique_ptr<PlanBook> book(new PlanBook(env, path));
  RETURN_IF_ERROR(book->Reload());
  return book;
}

Status PlanBook::Reload() {
  auto data = ReadWholeFile(env_, path_);
  if (!data.ok()) return data.status().WithContext("reading the plans file");
  auto plans = ParsePlans(std::string_view(reinterpret_cast<const char*>(data->data()), data->size()), path_);
  if (!plans.ok()) return plans.status();
  std::lock_guard<std::mutex> lock(mu_);
  plans_ = std::move(*plans);
  return Status::Ok();
}

Result<Plan> PlanBook::Find(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& p : plans_)
    if (p.name == name) return p;
  return Status::NotFound("no plan named '" + name + "'");
}

std::vector<Plan> PlanBook::InScope(const Scope& scope) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Plan> out;
  for (const auto& p : plans_)
    if (p.InScope(scope)) out.push_back(p);
  return out;
}

std::string PlanBook::Serialize() const {
  json plans = json::array();
  for (const auto& p : plans_) plans.push_back(PlanToJson(p, true));
  return json({{"plans", plans}}).dump(2) + "\n";
}

Status PlanBook::SetRetention(const std::string& name, const std::map<std::string, std::string>& retention) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = std::find_if(plans_.begin(), plans_.end(), [&](const Plan& p) { return p.name == name; });
  if (it == plans_.end()) return Status::NotFound("no plan named '" + name + "'");
  const auto before = it->retention;
  it->retention = retention;
  const std::string text = Serialize();
  Status s = WriteFileAtomic(env_, path_, ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  if (!s.ok()) it->retention = before;  // the file and the plan stay as they were
  return s.WithContext("writing the plans file");
}

}  // namespace backspan::observatory
