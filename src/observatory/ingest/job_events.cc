#include "observatory/ingest/job_events.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "observatory/ingest/json_body.h"
#include "trace/semconv.h"
#include "util/text.h"
#include "util/time_format.h"

namespace backspan::observatory {
namespace {

using nlohmann::json;
constexpr size_t kMaxText = 2048;
constexpr size_t kMaxAttributes = 128;

// A time as RFC 3339 text or unix seconds.
std::optional<int64_t> TimeValue(const json& v) {
  if (v.is_string()) return ParseExternalTime(v.get<std::string>());
  if (v.is_number() && std::isfinite(v.get<double>()) && std::fabs(v.get<double>()) < 1e11)
    return static_cast<int64_t>(std::llround(v.get<double>() * 1e9));
  return std::nullopt;
}

// When an event happened; `what` names it in errors.
Result<int64_t> EventTime(const json& v, const char* what, int64_t now_ns) {
  const std::optional<int64_t> t = TimeValue(v);
  if (!t || !PlausibleTime(*t, now_ns))
    return Status::InvalidArgument(std::string(what) + " " + v.dump().substr(0, 60) +
                                   " is not a plausible time (RFC 3339 or unix seconds, after 2000, at most a day ahead)");
  return *t;
}

std::string Text(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return "";
  return it->get<std::string>().substr(0, kMaxText);
}

// Adds a JSON scalar or string array as attribute `key`; false if it is neither.
bool AddAttribute(trace::Attributes& attrs, const std::string& key, const json& v) {
  if (key.empty() || key.size() > 256 || attrs.size() >= kMaxAttributes) return false;
  if (v.is_string()) trace::SetAttribute(attrs, key, v.get<std::string>().substr(0, kMaxText));
  else if (v.is_boolean()) trace::SetAttribute(attrs, key, v.get<bool>());
  else if (v.is_number_integer()) trace::SetAttribute(attrs, key, v.get<int64_t>());
  else if (v.is_number()) trace::SetAttribute(attrs, key, v.get<double>());
  else if (v.is_array()) {
    trace::StringArray items;
    for (const auto& item : v) {
      if (!item.is_string()) return false;
      items.push_back(item.get<std::string>().substr(0, kMaxText));
    }
    trace::SetAttribute(attrs, key, std::move(items));
  } else {
    return false;
  }
  return true;
}

Result<ExternalSpan> EventSpan(const json& ev, int64_t now_ns) {
  if (!ev.is_object()) return Status::InvalidArgument("not a JSON object");
  const std::string job_id = Text(ev, "job_id");
  if (job_id.empty()) return Status::InvalidArgument("job_id is missing");
  const std::string type = AsciiLower(Text(ev, "type"));
  if (type != "started" && type != "progress" && type != "completed" && type != "failed")
    return Status::InvalidArgument("type '" + Text(ev, "type").substr(0, 40) + "' is not started, progress, completed or failed");
  int64_t time = now_ns;
  if (auto it = ev.find("time"); it != ev.end()) {
    auto t = EventTime(*it, "time", now_ns);
    if (!t.ok()) return t.status();
    time = *t;
  }
  std::string source = Text(ev, "source");
  if (source.empty()) source = "events";
  std::string kind = Text(ev, "kind");
  if (kind.empty()) kind = "backup";

  ExternalSpan out;
  trace::SpanData& span = out.span;
  const std::string key = source + "/" + job_id;
  span.trace_id = DerivedTraceId("job-event", key);
  if (auto tid = trace::TraceIdFromHex(Text(ev, "trace_id")); tid && *tid != trace::TraceId{}) span.trace_id = *tid;
  span.span_id = DerivedSpanId("job-event", key);
  span.name = Text(ev, "name");
  out.open = type == "started" || type == "progress";
  if (type == "started") span.start_ns = time;
  else if (auto it = ev.find("start_time"); it != ev.end()) {
    auto t = EventTime(*it, "start_time", now_ns);
    if (!t.ok()) return t.status();
    span.start_ns = *t;
  }
  if (!out.open) {
    span.end_ns = time;
    if (span.start_ns > time) return Status::InvalidArgument("start_time is after the event's time");
  }

  trace::Attributes& attrs = span.attributes;
  trace::SetAttribute(attrs, semconv::kJobKind, kind);
  trace::SetAttribute(attrs, semconv::kJobId, job_id);
  if (auto v = Text(ev, "host"); !v.empty()) trace::SetAttribute(attrs, semconv::kHostName, v);
  if (auto v = Text(ev, "resource_group"); !v.empty()) trace::SetAttribute(attrs, semconv::kAzureResourceGroupName, v);
  if (auto v = Text(ev, "snapshot_id"); !v.empty()) trace::SetAttribute(attrs, semconv::kSnapshotId, v);
  for (const char* n : {"bytes_added", "bytes_total", "files_total", "files_changed", "bytes_read", "bytes_stored"}) {
    auto it = ev.find(n);
    if (it == ev.end()) continue;
    if (!it->is_number_integer() || it->get<int64_t>() < 0) return Status::InvalidArgument(std::string(n) + " is not a count");
    std::string name = n;
    name[name.find('_')] = '.';
    trace::SetAttribute(attrs, semconv::kBackspanPrefix + name, it->get<int64_t>());
  }
  if (auto it = ev.find("deadline"); it != ev.end()) {
    // When the job had to be done (its backup window's end): forecasts
    // compare durations with it (docs/insight.md).
    const std::optional<int64_t> t = TimeValue(*it);
    if (!t || *t <= 0)
      return Status::InvalidArgument("deadline " + it->dump().substr(0, 60) + " is not a time (RFC 3339 or unix seconds)");
    trace::SetAttribute(attrs, semconv::kJobDeadline, FormatRfc3339(*t));
  }
  if (auto it = ev.find("paths"); it != ev.end() && !AddAttribute(attrs, semconv::kPaths, *it))
    return Status::InvalidArgument("paths is not an array of strings");
  if (auto it = ev.find("progress"); it != ev.end()) {
    if (!it->is_object()) return Status::InvalidArgument("progress is not an object");
    for (auto p = it->begin(); p != it->end(); ++p)
      if (!p.value().is_number() || !AddAttribute(attrs, semconv::kProgressPrefix + p.key(), p.value()))
        return Status::InvalidArgument("progress." + p.key().substr(0, 40) + " is not a number");
  }
  std::vector<std::string> tag_list;
  if (auto it = ev.find("tags"); it != ev.end()) {
    if (!it->is_object()) return Status::InvalidArgument("tags is not an object");
    for (auto t = it->begin(); t != it->end(); ++t) {
      if (!t.value().is_string() || !AddAttribute(attrs, t.key(), t.value()))
        return Status::InvalidArgument("tag " + t.key().substr(0, 40) + " is not a string");
      tag_list.push_back(t.key() + "=" + t.value().get<std::string>());
    }
  }
  if (!tag_list.empty()) trace::SetAttribute(attrs, semconv::kTags, tag_list);
  if (auto it = ev.find("attributes"); it != ev.end()) {
    if (!it->is_object()) return Status::InvalidArgument("attributes is not an object");
    for (auto a = it->begin(); a != it->end(); ++a)
      if (!AddAttribute(attrs, a.key(), a.value()))
        return Status::InvalidArgument("attribute " + a.key().substr(0, 40) + " is not a string, number, boolean or array of strings");
  }
  const std::string message = Text(ev, "message");
  if (type == "failed") {
    span.status = trace::StatusCode::kError;
    span.status_message = message.empty() ? "the job failed" : message;
    const std::string error_type = Text(ev, "error_type");
    trace::SetAttribute(attrs, semconv::kErrorType, error_type.empty() ? std::string("failed") : error_type);
    trace::Attributes e;
    trace::SetAttribute(e, semconv::kExceptionMessage, span.status_message);
    if (!error_type.empty()) trace::SetAttribute(e, semconv::kExceptionType, error_type);
    span.events.push_back({"exception", time, std::move(e)});
  } else if (type == "completed") {
    span.status = trace::StatusCode::kOk;
  }
  if (!message.empty() && type != "failed") {
    trace::Attributes e;
    trace::SetAttribute(e, "message", message);
    span.events.push_back({type, time, std::move(e)});
  }
  trace::SetAttribute(out.resource.attributes, semconv::kServiceName, source);
  return out;
}

// A finished job's "phases": [{"name", "duration_s"}] as its child spans,
// laid end to end from its start (or, when the event leaves the start to
// the stored job, back from its end), so a tool's phases show in the
// waterfall and insight can tell which one grew.
Result<std::vector<ExternalSpan>> PhaseSpans(const json& ev, const ExternalSpan& job, int64_t end_ns) {
  std::vector<ExternalSpan> out;
  auto it = ev.find("phases");
  if (it == ev.end()) return out;
  if (!it->is_array() || it->size() > 64) return Status::InvalidArgument("phases is not an array of at most 64 phases");
  if (job.open) return Status::InvalidArgument("phases belong to a completed or failed event");
  std::vector<std::pair<std::string, int64_t>> phases;
  int64_t total = 0;
  for (const auto& p : *it) {
    const std::string name = p.is_object() ? Text(p, "name") : "";
    auto d = p.is_object() ? p.find("duration_s") : p.end();
    if (name.empty() || name.size() > 128 || d == p.end() || !d->is_number() || !std::isfinite(d->get<double>()) ||
        d->get<double>() < 0 || d->get<double>() > 366.0 * 86400)
      return Status::InvalidArgument("phases[" + std::to_string(phases.size()) +
                                     "] is not {\"name\": text, \"duration_s\": seconds from 0 to a year}");
    phases.emplace_back(name, static_cast<int64_t>(std::llround(d->get<double>() * 1e9)));
    total += phases.back().second;
  }
  int64_t t = job.span.start_ns ? job.span.start_ns : end_ns - total;
  for (auto& [name, duration] : phases) {
    ExternalSpan phase;
    phase.resource = job.resource;
    phase.span.trace_id = job.span.trace_id;
    phase.span.parent_span_id = job.span.span_id;
    phase.span.span_id = DerivedSpanId("job-event-phase", trace::ToHex(job.span.span_id) + "/" + std::to_string(out.size()));
    phase.span.name = name;
    phase.span.start_ns = t;
    phase.span.end_ns = t + duration;
    t += duration;
    out.push_back(std::move(phase));
  }
  return out;
}

}  // namespace

Result<ParsedSpans> JobEventSpans(std::string_view body, int64_t now_ns) {
  auto parsed = ParseJsonBody(body, "the body is not JSON (an event, an array of events, or JSON lines)");
  if (!parsed.ok()) return parsed.status();
  std::vector<json> events;
  if (parsed->lines) {
    events = std::move(parsed->docs);
  } else {
    json& doc = parsed->docs[0];
    json* list = doc.is_array() ? &doc : doc.is_object() && doc.contains("events") && doc["events"].is_array() ? &doc["events"] : nullptr;
    if (list) {
      RETURN_IF_ERROR(CheckItemCount(list->size(), "event"));
      for (auto& ev : *list) events.push_back(std::move(ev));
    } else {
      events.push_back(std::move(doc));
    }
  }
  if (events.empty()) return Status::InvalidArgument("the body holds no events");
  ParsedSpans out;
  for (size_t i = 0; i < events.size(); ++i) {
    auto span = EventSpan(events[i], now_ns);
    Result<std::vector<ExternalSpan>> phases = span.ok() ? PhaseSpans(events[i], *span, span->span.end_ns) : span.status();
    if (!phases.ok()) {
      out.rejected.push_back("event " + std::to_string(i + 1) + ": " + phases.status().message());
      continue;
    }
    out.spans.push_back(std::move(*span));
    for (auto& p : *phases) out.spans.push_back(std::move(p));
  }
  return out;
}

}  // namespace backspan::observatory
