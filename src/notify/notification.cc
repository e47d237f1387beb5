#include "notify/notification.h"

#include <nlohmann/json.hpp>

#include "util/time_format.h"

namespace backspan::notify {
namespace {

constexpr std::pair<EventKind, const char*> kNames[] = {
    {EventKind::kFailure, "failure"}, {EventKind::kPartial, "partial"},     {EventKind::kMissed, "missed"},
    {EventKind::kOverdue, "overdue"}, {EventKind::kRecovered, "recovered"}, {EventKind::kAnomaly, "anomaly"},
    {EventKind::kForecast, "forecast"},
};

const char* Headline(EventKind kind) {
  switch (kind) {
    case EventKind::kFailure: return "FAILED";
    case EventKind::kPartial: return "PARTIAL";
    case EventKind::kMissed: return "MISSED";
    case EventKind::kOverdue: return "OVERDUE";
    case EventKind::kRecovered: return "RECOVERED";
    case EventKind::kAnomaly: return "ANOMALY";
    case EventKind::kForecast: return "OVERRUN FORECAST for";
  }
  return "";
}

}  // namespace

const char* EventKindName(EventKind kind) {
  for (const auto& [k, name] : kNames)
    if (k == kind) return name;
  return "failure";
}

std::optional<EventKind> ParseEventKind(std::string_view name) {
  for (const auto& [k, n] : kNames)
    if (name == n) return k;
  return std::nullopt;
}

std::string Notification::Title() const {
  std::string t = std::string(reminder ? "STILL " : "") + Headline(event.kind) + " " +
                  (event.job_kind.empty() ? "backup" : event.job_kind) + " on " + event.host;
  if (!event.paths.empty()) t += ": " + event.paths;
  if (!event.resource_group.empty()) t += " (" + event.resource_group + ")";
  return t;
}

std::string Notification::Text() const {
  std::string t = Title() + "\n";
  if (!event.detail.empty()) t += event.detail + "\n";
  t += "at " + FormatRfc3339(event.time_ns) + "\n";
  if (!job_url.empty()) t += job_url + "\n";
  if (!event.trace_id.empty()) t += "trace " + event.trace_id + "\n";
  return t;
}

std::string Notification::ToJson() const {
  nlohmann::json tags = nlohmann::json::object();
  for (const auto& [k, v] : event.tags) tags[k] = v;
  nlohmann::json j = {{"event", EventKindName(event.kind)},
                      {"reminder", reminder},
                      {"incident_id", incident_id},
                      {"title", Title()},
                      {"text", Text()},
                      {"time", FormatRfc3339(event.time_ns)},
                      {"source", {{"host", event.host}, {"paths", event.paths}, {"resource_group", event.resource_group}, {"tags", tags}}},
                      {"job_kind", event.job_kind},
                      {"detail", event.detail}};
  if (!job_url.empty()) j["url"] = job_url;
  if (!event.trace_id.empty()) j["trace_id"] = event.trace_id;
  if (!event.job_id.empty()) j["job_id"] = event.job_id;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string EncodeEvent(const Event& e) {
  nlohmann::json tags = nlohmann::json::object();
  for (const auto& [k, v] : e.tags) tags[k] = v;
  return nlohmann::json{{"kind", EventKindName(e.kind)}, {"key", e.key}, {"host", e.host}, {"paths", e.paths},
                        {"resource_group", e.resource_group}, {"job_kind", e.job_kind}, {"tags", tags},
                        {"trace_id", e.trace_id}, {"job_id", e.job_id}, {"detail", e.detail}, {"time_ns", e.time_ns}}
      .dump();
}

std::optional<Event> DecodeEvent(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  auto str = [&](const char* name) {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  Event e;
  e.kind = ParseEventKind(str("kind")).value_or(EventKind::kFailure);
  e.key = str("key");
  e.host = str("host");
  e.paths = str("paths");
  e.resource_group = str("resource_group");
  e.job_kind = str("job_kind");
  if (auto t = j.find("tags"); t != j.end() && t->is_object())
    for (const auto& [k, v] : t->items())
      if (v.is_string()) e.tags.emplace_back(k, v.get<std::string>());
  e.trace_id = str("trace_id");
  e.job_id = str("job_id");
  e.detail = str("detail");
  if (auto t = j.find("time_ns"); t != j.end() && t->is_number_integer()) e.time_ns = t->get<int64_t>();
  if (e.key.empty()) return std::nullopt;
  return e;
}

}  // namespace backspan::notify
