#include "observatory/ingest/agent_heartbeat.h"

#include <nlohmann/json.hpp>

#include "schedule/schedule.h"
#include "trace/semconv.h"
#include "util/time_format.h"

namespace backspan::observatory {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxPolicies = 1000;
// The service every job of an agent reports under (the agent sets it).
constexpr char kAgentService[] = "backspan";

// A field of the expected type, else the fallback: json::value throws on a
// field of another type, and a heartbeat is outside input.
std::string Text(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}
bool Flag(const json& j, const char* key) { return j.contains(key) && j[key].is_boolean() && j[key].get<bool>(); }
int64_t Count(const json& j, const char* key, int64_t fallback = 0) {
  return j.contains(key) && j[key].is_number_integer() ? j[key].get<int64_t>() : fallback;
}

Result<DeclaredPolicy> ReadPolicy(const json& j, const std::string& host) {
  DeclaredPolicy p;
  if (!j.is_object()) return Status::InvalidArgument("a policy is not a JSON object");
  p.name = Text(j, "name");
  if (p.name.empty() || p.name.size() > 256) return Status::InvalidArgument("a policy has no name");
  const std::string where = "policy '" + p.name + "': ";
  p.repository = Text(j, "repository");
  if (j.contains("paths") && j["paths"].is_array())
    for (const auto& path : j["paths"])
      if (path.is_string()) p.paths.push_back(path.get<std::string>());
  // No paths: the agent drops them from everything it sends (trace_paths = "drop").
  std::vector<std::string> tag_texts;
  if (j.contains("tags") && j["tags"].is_object())
    for (const auto& [k, v] : j["tags"].items()) {
      if (!v.is_string()) return Status::InvalidArgument(where + "tag '" + k + "' must be a string");
      p.tags.emplace_back(k, v.get<std::string>());
      tag_texts.push_back(k + "=" + v.get<std::string>());
      if (k == semconv::kAzureResourceGroupName) p.resource_group = v.get<std::string>();
    }
  p.error = Text(j, "error");
  p.paused = Flag(j, "paused");
  p.restores = Flag(j, "restores");
  p.running = Flag(j, "running");
  p.last_outcome = Text(j, "last_outcome");
  if (p.error.empty()) {
    p.schedule = Text(j, "schedule");
    p.timezone = Text(j, "timezone");
    auto schedule = schedule::Schedule::Parse(p.schedule, p.timezone);
    if (!schedule.ok()) return Status::InvalidArgument(where + "schedule: " + schedule.status().message());
    const auto seconds = [&](const char* key) -> Result<int64_t> {
      if (!j.contains(key)) return int64_t{0};
      if (!j[key].is_number_integer() || j[key].get<int64_t>() < 0 || j[key].get<int64_t>() > 366 * 86400)
        return Status::InvalidArgument(where + key + " must be a whole number of seconds up to a year");
      return j[key].get<int64_t>();
    };
    ASSIGN_OR_RETURN(p.window_seconds, seconds("window_seconds"));
    ASSIGN_OR_RETURN(p.grace_seconds, seconds("grace_seconds"));
  }
  p.source_key = SourceKey(host, kAgentService, p.paths, tag_texts);
  return p;
}

}  // namespace

Result<ParsedHeartbeat> ParseHeartbeat(std::string_view body, const Scope& writer, int64_t now_ns) {
  const json j = json::parse(body, nullptr, false);
  if (!j.is_object()) return Status::InvalidArgument("the body is not a JSON object");
  ParsedHeartbeat out;
  AgentRecord& a = out.agent;
  a.name = Text(j, "agent");
  a.host = Text(j, "host");
  if (a.host.empty()) a.host = a.name;
  if (a.name.empty() || a.name.size() > 256) return Status::InvalidArgument("'agent' must name the agent (up to 256 bytes)");
  a.version = Text(j, "version");
  a.sent_ns = ParseRfc3339(Text(j, "time")).value_or(now_ns);
  a.received_ns = now_ns;
  a.interval_seconds = Count(j, "interval_seconds", 60);
  if (a.interval_seconds < 1 || a.interval_seconds > 86400) return Status::InvalidArgument("interval_seconds must be from 1 to 86400");
  a.stopping = Flag(j, "stopping");
  if (j.contains("spool") && j["spool"].is_object()) {
    a.spool_entries = Count(j["spool"], "entries");
    a.spool_bytes = Count(j["spool"], "bytes");
    a.spool_dropped = Count(j["spool"], "dropped");
  }
  if (!j.contains("policies")) return out;
  if (!j["policies"].is_array()) return Status::InvalidArgument("'policies' must be a list");
  if (j["policies"].size() > kMaxPolicies)
    return Status::InvalidArgument("at most " + std::to_string(kMaxPolicies) + " policies per agent");
  for (const auto& item : j["policies"]) {
    auto p = ReadPolicy(item, a.host);
    if (!p.ok()) {
      out.rejected.push_back(p.status().message());
      continue;
    }
    if (!writer.Allows(p->resource_group, p->tags, false)) {
      out.rejected.push_back("policy '" + p->name + "': outside what this caller may write (resource group '" +
                             p->resource_group + "')");
      continue;
    }
    a.policies.push_back(std::move(*p));
  }
  return out;
}

}  // namespace backspan::observatory
