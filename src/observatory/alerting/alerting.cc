#include "observatory/alerting/alerting.h"

#include <algorithm>
#include <chrono>

#include "crypto/crypto.h"
#include "env/env.h"
#include "observatory/ingest/external_span_writer.h"
#include "observatory/insight/wording.h"
#include "observatory/query/freshness.h"
#include "trace/semconv.h"
#include "util/time_format.h"

namespace backspan::observatory {
namespace {

// A source's tags from its key's last part ("k=v,k2=v2,").
std::vector<std::pair<std::string, std::string>> KeyTags(const std::string& key) {
  std::vector<std::pair<std::string, std::string>> out;
  const size_t at = key.rfind('\x1f');
  if (at == std::string::npos) return out;
  size_t start = at + 1;
  while (start < key.size()) {
    size_t end = key.find(',', start);
    if (end == std::string::npos) end = key.size();
    const std::string tag = key.substr(start, end - start);
    if (const size_t eq = tag.find('='); eq != std::string::npos) out.emplace_back(tag.substr(0, eq), tag.substr(eq + 1));
    start = end + 1;
  }
  return out;
}

std::string TagValue(const std::vector<Tag>& tags, const char* key) {
  for (const auto& [k, v] : tags)
    if (k == key) return v;
  return "";
}

}  // namespace

std::vector<notify::Event> EventsFromJobs(const std::vector<JobRecord>& jobs) {
  std::vector<notify::Event> out;
  for (const JobRecord& j : jobs) {
    if (j.status == semconv::kJobStatusRunning || j.kind == semconv::kJobKindAgentRun || j.kind == "audit") continue;
    notify::Event e;
    if (j.kind == semconv::kJobKindMissed) e.kind = notify::EventKind::kMissed;
    else if (j.status == semconv::kJobStatusFailed) e.kind = notify::EventKind::kFailure;
    else if (j.status == semconv::kJobStatusPartial) e.kind = notify::EventKind::kPartial;
    else if (j.status == semconv::kJobStatusOk) e.kind = notify::EventKind::kRecovered;
    else continue;  // interrupted: not news
    e.key = !j.source_key.empty() ? j.source_key : j.host + "\x1f" + j.kind;
    e.host = j.host;
    e.paths = j.source_paths;
    e.resource_group = j.resource_group;
    e.job_kind = j.kind == semconv::kJobKindMissed ? "backup" : j.kind;
    e.tags = j.source_key.empty() ? j.tags : KeyTags(j.source_key);
    e.trace_id = trace::ToHex(j.trace_id);
    e.job_id = trace::ToHex(j.span_id);
    e.detail = j.error_message;
    if (e.kind == notify::EventKind::kMissed) {
      const std::string reason = TagValue(j.tags, semconv::kMissedReason);
      if (!reason.empty() && e.detail.empty()) e.detail = "missed: " + reason;
    }
    e.time_ns = j.end_ns;
    out.push_back(std::move(e));
  }
  return out;
}

notify::Event EventFromAnomaly(const insight::AnomalyRecord& anomaly, const SourceState* source) {
  notify::Event e;
  e.kind = notify::EventKind::kAnomaly;
  e.key = anomaly.source_key;
  if (source) {
    e.host = source->host;
    e.paths = source->paths;
    e.resource_group = source->resource_group;
  }
  e.job_kind = "backup";
  e.tags = KeyTags(anomaly.source_key);
  e.trace_id = trace::ToHex(anomaly.trace_id);
  e.job_id = trace::ToHex(anomaly.span_id);
  e.detail = anomaly.anomaly.kind + ": " + anomaly.anomaly.message;
  e.time_ns = anomaly.time_ns;
  return e;
}

notify::Event EventFromOverrunForecast(const std::string& source_key, const insight::JobPoint& newest,
                                       const insight::OverrunForecast& forecast, const SourceState* source) {
  notify::Event e;
  e.kind = notify::EventKind::kForecast;
  e.key = source_key;
  if (source) {
    e.host = source->host;
    e.paths = source->paths;
    e.resource_group = source->resource_group;
  }
  e.job_kind = "backup";
  e.tags = KeyTags(source_key);
  e.trace_id = trace::ToHex(newest.trace_id);
  e.job_id = trace::ToHex(newest.span_id);
  e.detail = "the run " + std::to_string(forecast.runs_ahead) + (forecast.runs_ahead == 1 ? " run" : " runs") +
             " ahead, at " + FormatRfc3339(forecast.expected_at_ns) + ", is forecast to take " +
             insight::FormatSeconds(forecast.predicted_duration_s) + " (90 %: " + insight::FormatSeconds(forecast.low_s) +
             " to " + insight::FormatSeconds(forecast.high_s) + ") in a window of " +
             insight::FormatSeconds(forecast.window_s) + "; it grows " + insight::FormatSeconds(forecast.trend_s_per_day) +
             " a day";
  e.time_ns = newest.start_ns;
  return e;
}

trace::SpanData AnomalySpan(const insight::AnomalyRecord& r, const SourceState* source, int64_t now_ns) {
  trace::SpanData s;
  s.trace_id = r.trace_id;
  s.parent_span_id = r.span_id;
  const crypto::Digest id = crypto::Sha256(ByteView(reinterpret_cast<const uint8_t*>(r.id.data()), r.id.size()));
  std::copy_n(id.begin(), s.span_id.size(), s.span_id.begin());
  s.name = std::string(semconv::kAnomalyEvent) + " " + r.anomaly.kind;
  s.start_ns = s.end_ns = now_ns;
  trace::SpanEvent e;
  e.name = semconv::kAnomalyEvent;
  e.time_ns = now_ns;
  e.attributes = {{semconv::kAnomalyId, r.id},
                  {semconv::kAnomalyKind, r.anomaly.kind},
                  {semconv::kAnomalySeverity, r.anomaly.severity},
                  {semconv::kAnomalyMessage, r.anomaly.message},
                  {semconv::kAnomalyScore, r.anomaly.score}};
  s.attributes = e.attributes;
  s.events.push_back(std::move(e));
  if (source) {
    trace::SetAttribute(s.attributes, semconv::kHostName, source->host);
    if (!source->resource_group.empty())
      trace::SetAttribute(s.attributes, semconv::kAzureResourceGroupName, source->resource_group);
  }
  return s;
}

void RecordDelivery(ExternalSpanWriter* writer, const notify::Delivery& d) {
  ExternalSpan es;
  trace::SpanData& s = es.span;
  const notify::Event& e = d.notification.event;
  crypto::RandomBytes(s.span_id.data(), s.span_id.size());
  auto trace_id = trace::TraceIdFromHex(e.trace_id);
  auto parent = trace::SpanIdFromHex(e.job_id);
  if (trace_id && parent) {
    s.trace_id = *trace_id;
    s.parent_span_id = *parent;
  } else {
    crypto::RandomBytes(s.trace_id.data(), s.trace_id.size());
    trace::SetAttribute(s.attributes, semconv::kJobKind, std::string(semconv::kJobKindNotification));
  }
  s.name = "notify " + d.channel;
  s.start_ns = d.start_ns;
  s.end_ns = d.end_ns;
  trace::SetAttribute(s.attributes, semconv::kNotifyChannel, d.channel);
  trace::SetAttribute(s.attributes, semconv::kNotifyChannelType, d.channel_type);
  trace::SetAttribute(s.attributes, semconv::kNotifyEvent, std::string(notify::EventKindName(e.kind)));
  trace::SetAttribute(s.attributes, semconv::kNotifyIncident, d.notification.incident_id);
  trace::SetAttribute(s.attributes, semconv::kNotifyReminder, d.notification.reminder);
  trace::SetAttribute(s.attributes, semconv::kNotifyAttempts, int64_t{d.attempts});
  trace::SetAttribute(s.attributes, semconv::kHostName, e.host);
  if (!e.resource_group.empty()) trace::SetAttribute(s.attributes, semconv::kAzureResourceGroupName, e.resource_group);
  for (const auto& [k, v] : e.tags) trace::SetAttribute(s.attributes, k, v);
  if (d.result.ok()) {
    s.status = trace::StatusCode::kOk;
  } else {
    s.status = trace::StatusCode::kError;
    s.status_message = d.result.message();
  }
  trace::SetAttribute(es.resource.attributes, semconv::kServiceName, std::string("backspan-observatory"));
  (void)writer->Store({es});
}

ExpectationWatcher::ExpectationWatcher(SpanStore* store, notify::EventSink* events, Env* env, int64_t interval_seconds,
                                       int64_t default_stale_ns)
    : store_(store), events_(events), env_(env), default_stale_ns_(default_stale_ns),
      thread_(std::chrono::seconds(interval_seconds), [this] { CheckOnce(); }) {}

void ExpectationWatcher::CheckOnce() {
  // Replicas sharing a store check once, in the leader.
  if (!store_->Leads()) return;
  const int64_t now = env_->NowUnixNanos();
  auto sources = store_->Sources(Scope::All());
  auto agents = store_->Agents(Scope::All());
  if (!sources.ok() || !agents.ok()) return;  // the next check tries again
  const auto declared = Declarations(*agents);
  for (const SourceView& v : FreshnessBoard(std::move(*sources), declared, now, default_stale_ns_)) {
    const SourceHealth state = v.freshness.state;
    if (state != SourceHealth::kOverdue && state != SourceHealth::kOk) continue;
    notify::Event e;
    e.kind = state == SourceHealth::kOverdue ? notify::EventKind::kOverdue : notify::EventKind::kRecovered;
    e.key = v.source.key;
    e.host = v.source.host;
    e.paths = v.source.paths;
    e.resource_group = v.source.resource_group;
    e.job_kind = "backup";
    e.tags = KeyTags(v.source.key);
    e.trace_id = v.source.last_trace_id;
    e.time_ns = now;
    if (e.kind == notify::EventKind::kOverdue) {
      const double hours = static_cast<double>(v.freshness.age_ns) / 3.6e12;
      char why[160];
      std::snprintf(why, sizeof why, "no successful backup for %.1f h%s", hours,
                    v.declared && !AgentUp(*v.declared->agent, now) ? "; its agent is not heard from" : "");
      e.detail = why;
      e.trace_id.clear();  // the last job is not what is wrong
    }
    events_->Publish(std::move(e));
  }
  events_->Remind();
}

}  // namespace backspan::observatory
