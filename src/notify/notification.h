// What a notification says, whichever channel carries it: the event, the
// source it is about, a link to the job in the UI and its trace id, never a
// credential (docs/notifications.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace backspan::notify {

enum class EventKind { kFailure, kPartial, kMissed, kOverdue, kRecovered, kAnomaly, kForecast };
// "failure", "partial", "missed", "overdue", "recovered", "anomaly",
// "forecast" (a run forecast to overrun its window soon).
const char* EventKindName(EventKind kind);
std::optional<EventKind> ParseEventKind(std::string_view name);

// Something that may open, remind of or close an incident.
struct Event {
  EventKind kind = EventKind::kFailure;
  std::string key;  // what incidents are kept per: a source, or a host and job kind
  std::string host, paths, resource_group, job_kind;
  std::vector<std::pair<std::string, std::string>> tags;
  std::string trace_id, job_id;  // the job, if there is one
  std::string detail;            // why: the job's error, the missed reason, how late
  int64_t time_ns = 0;
};

// An event as a JSON object, and back (nullopt if `text` is not one, or
// names no key): how events travel between replicas and rest in the
// notifier's state.
std::string EncodeEvent(const Event& e);
std::optional<Event> DecodeEvent(std::string_view text);

struct Notification {
  Event event;
  std::string incident_id;
  bool reminder = false;  // the incident is still open
  std::string job_url;    // the job (or the freshness board) in the UI; empty without a UI address
  // One line: "FAILED backup on web-01: /etc (rg-web)".
  std::string Title() const;
  // A few lines: the title, why, when, the link and trace id.
  std::string Text() const;
  // The generic webhook's body (docs/notifications.md).
  std::string ToJson() const;
};

}  // namespace backspan::notify
