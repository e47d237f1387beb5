#include "observatory/store/agent_record.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "util/time_format.h"

namespace backspan::observatory {
namespace {

using json = nlohmann::json;

json PolicyToJson(const DeclaredPolicy& p) {
  json tags = json::object();
  for (const auto& [k, v] : p.tags) tags[k] = v;
  json j = {{"name", p.name}, {"repository", p.repository}, {"paths", p.paths}, {"tags", tags},
            {"resource_group", p.resource_group}, {"source_key", p.source_key}};
  if (!p.error.empty()) j["error"] = p.error;
  if (!p.schedule.empty()) j["schedule"] = p.schedule, j["timezone"] = p.timezone;
  if (p.window_seconds) j["window_seconds"] = p.window_seconds;
  if (p.grace_seconds) j["grace_seconds"] = p.grace_seconds;
  if (!p.last_outcome.empty()) j["last_outcome"] = p.last_outcome;
  j["running"] = p.running;
  j["paused"] = p.paused;
  j["restores"] = p.restores;
  if (p.first_declared_ns) j["first_declared"] = FormatRfc3339(p.first_declared_ns);
  return j;
}

DeclaredPolicy PolicyFromJson(const json& j) {
  DeclaredPolicy p;
  p.name = j.value("name", "");
  p.repository = j.value("repository", "");
  p.paths = j.value("paths", std::vector<std::string>{});
  if (j.contains("tags") && j["tags"].is_object())
    for (const auto& [k, v] : j["tags"].items())
      if (v.is_string()) p.tags.emplace_back(k, v.get<std::string>());
  p.resource_group = j.value("resource_group", "");
  p.source_key = j.value("source_key", "");
  p.error = j.value("error", "");
  p.schedule = j.value("schedule", "");
  p.timezone = j.value("timezone", "");
  p.window_seconds = j.value("window_seconds", int64_t{0});
  p.grace_seconds = j.value("grace_seconds", int64_t{0});
  p.last_outcome = j.value("last_outcome", "");
  p.running = j.value("running", false);
  p.paused = j.value("paused", false);
  p.restores = j.value("restores", false);
  p.first_declared_ns = ParseRfc3339(j.value("first_declared", "")).value_or(0);
  return p;
}

}  // namespace

bool AgentInScope(const AgentRecord& agent, const Scope& scope) {
  if (scope.AllowsEverything()) return true;
  return std::any_of(agent.policies.begin(), agent.policies.end(),
                     [&](const DeclaredPolicy& p) { return scope.Allows(p.resource_group, p.tags, false); });
}

std::string AgentRecordToJson(const AgentRecord& a, const Scope& scope) {
  json policies = json::array();
  for (const auto& p : a.policies)
    if (scope.Allows(p.resource_group, p.tags, false)) policies.push_back(PolicyToJson(p));
  return json{{"name", a.name},
              {"host", a.host},
              {"version", a.version},
              {"sent", FormatRfc3339(a.sent_ns)},
              {"received", FormatRfc3339(a.received_ns)},
              {"interval_seconds", a.interval_seconds},
              {"stopping", a.stopping},
              {"spool", {{"entries", a.spool_entries}, {"bytes", a.spool_bytes}, {"dropped", a.spool_dropped}}},
              {"policies", policies}}
      .dump();
}

Result<AgentRecord> AgentRecordFromJson(const std::string& text) {
  const json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return Status::Corruption("a stored agent record is not JSON");
  AgentRecord a;
  try {
    a.name = j.value("name", "");
    a.host = j.value("host", "");
    a.version = j.value("version", "");
    a.sent_ns = ParseRfc3339(j.value("sent", "")).value_or(0);
    a.received_ns = ParseRfc3339(j.value("received", "")).value_or(0);
    a.interval_seconds = j.value("interval_seconds", int64_t{60});
    a.stopping = j.value("stopping", false);
    if (j.contains("spool")) {
      a.spool_entries = j["spool"].value("entries", int64_t{0});
      a.spool_bytes = j["spool"].value("bytes", int64_t{0});
      a.spool_dropped = j["spool"].value("dropped", int64_t{0});
    }
    for (const auto& p : j.value("policies", json::array())) a.policies.push_back(PolicyFromJson(p));
  } catch (const json::exception& e) {
    return Status::Corruption(std::string("a stored agent record is damaged: ") + e.what());
  }
  return a;
}

}  // namespace backspan::observatory
