#include "observatory/query/metrics.h"

#include <cctype>
#include <cstdio>
#include <map>
#include <set>

#include "observatory/query/freshness.h"
#include "util/text.h"

namespace backspan::observatory {
namespace {

// A label value escaped as the exposition format requires.
std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
  return out;
}

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

class Writer {
 public:
  void Family(const char* name, const char* type, const char* help) {
    out_ += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  }
  void Sample(const std::string& name, const std::string& labels, double v) {
    out_ += name + (labels.empty() ? "" : "{" + labels + "}") + " " + Num(v) + "\n";
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string SourceLabels(const SourceState& s) {
  return "source=\"" + Escape(s.host + ":" + s.paths) + "\",host=\"" + Escape(s.host) + "\",resource_group=\"" +
         Escape(s.resource_group) + "\"";
}

// A tag key as a label name: Prometheus allows [a-zA-Z_][a-zA-Z0-9_]*.
std::string LabelName(const std::string& key) {
  std::string out;
  for (char c : key) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "_" + out;
  return out;
}

// The source, its host and resource group, and each tag its jobs carry
// (`--tag KEY=VALUE`, the last part of its key), not every attribute.
std::string SourceTagLabels(const SourceState& s) {
  std::string labels = SourceLabels(s);
  std::set<std::string> used = {"source", "host", "resource_group", "state"};
  const size_t tags_at = s.key.rfind('\x1f');
  if (tags_at == std::string::npos) return labels;
  for (std::string_view tag : SplitView(std::string_view(s.key).substr(tags_at + 1), ',')) {
    const size_t eq = tag.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string name = LabelName(std::string(tag.substr(0, eq)));
    if (!used.insert(name).second) continue;  // a tag named like a label, or two keys alike
    labels += "," + name + "=\"" + Escape(std::string(tag.substr(eq + 1))) + "\"";
  }
  return labels;
}

std::string AgentLabels(const AgentRecord& a) { return "agent=\"" + Escape(a.name) + "\",host=\"" + Escape(a.host) + "\""; }

// Insight's families (docs/insight.md): anomalies raised per kind and
// source, and each source's outlook; a source the caller cannot see has no
// entry in `in.sources` and so no sample.
void RenderInsight(const MetricsInput& in, Writer& w) {
  std::map<int64_t, const SourceState*> by_id;
  for (const auto& s : in.sources) by_id[s.id] = &s;
  w.Family("backspan_anomalies_total", "counter", "Anomalous jobs found since the server started, by kind and source.");
  for (const auto& a : in.anomalies) {
    auto it = by_id.find(a.source_id);
    if (it == by_id.end()) continue;
    w.Sample("backspan_anomalies_total", "kind=\"" + Escape(a.kind) + "\"," + SourceLabels(*it->second),
             static_cast<double>(a.count));
  }
  w.Family("backspan_source_overrun_runs_ahead", "gauge",
           "Runs until the source's duration is forecast to pass its window (sources with a forecast overrun only).");
  for (const auto& o : in.outlook) {
    auto it = by_id.find(o.source_id);
    if (it == by_id.end() || o.overrun_runs_ahead < 0) continue;
    w.Sample("backspan_source_overrun_runs_ahead", SourceLabels(*it->second), o.overrun_runs_ahead);
  }
  w.Family("backspan_source_next_run_risk", "gauge",
           "Probability that the source's next run fails, is missed or overruns its window, from its recent history.");
  for (const auto& o : in.outlook) {
    auto it = by_id.find(o.source_id);
    if (it == by_id.end()) continue;
    const std::string labels = SourceLabels(*it->second);
    w.Sample("backspan_source_next_run_risk", labels + ",risk=\"fail\"", o.p_fail);
    w.Sample("backspan_source_next_run_risk", labels + ",risk=\"missed\"", o.p_missed);
    if (o.p_overrun) w.Sample("backspan_source_next_run_risk", labels + ",risk=\"overrun\"", *o.p_overrun);
  }
}

}  // namespace

std::string RenderMetrics(const MetricsInput& in) {
  Writer w;
  const auto& src = in.sources;
  auto per_source = [&](const char* name, const char* type, const char* help, auto value) {
    w.Family(name, type, help);
    for (const auto& s : src) w.Sample(name, SourceLabels(s), value(s));
  };
  per_source("backspan_backup_attempt_total", "counter", "Backup jobs run, per source.",
             [](const SourceState& s) { return static_cast<double>(s.jobs_total); });
  per_source("backspan_backup_success_total", "counter", "Backups that succeeded, per source.",
             [](const SourceState& s) { return static_cast<double>(s.success_total); });
  per_source("backspan_backup_partial_failure_total", "counter",
             "Backups that saved a snapshot but could not read some files, per source.",
             [](const SourceState& s) { return static_cast<double>(s.partial_total); });
  per_source("backspan_backup_failure_total", "counter", "Backups that failed, per source.",
             [](const SourceState& s) { return static_cast<double>(s.failed_total); });
  per_source("backspan_backup_bytes_added_total", "counter", "New data added to the repository by backups, per source.",
             [](const SourceState& s) { return static_cast<double>(s.bytes_added_total); });
  per_source("backspan_backup_last_successful_timestamp", "gauge",
             "When the last successful backup of the source ended, in unix seconds (0: never).",
             [](const SourceState& s) { return static_cast<double>(s.last_success_ns) / 1e9; });
  per_source("backspan_backup_last_status", "gauge", "Result of the source's last backup: 1 success, 0 failure, 0.5 partial.",
             [](const SourceState& s) {
               return s.last_status == "ok" ? 1.0 : s.last_status == "partial" ? 0.5 : 0.0;
             });
  // Freshness by the agents' declared schedules where there are any; the
  // sources' own tags become labels, so alerts can route by them.
  const auto declared = Declarations(in.agents);
  const auto board = FreshnessBoard(src, declared, in.now_ns, in.default_stale_ns);
  per_source("backspan_backup_overdue", "gauge", "1 if the source's last success is older than its schedule allows.",
             [&](const SourceState& s) {
               for (const auto& v : board)
                 if (v.source.id == s.id) return v.freshness.overdue ? 1.0 : 0.0;
               return 0.0;
             });
  const auto source_families = [&](const char* name, const char* type, const char* help, auto value) {
    w.Family(name, type, help);
    for (const auto& v : board) w.Sample(name, SourceTagLabels(v.source), value(v));
  };
  source_families("backspan_source_last_success_timestamp_seconds", "gauge",
                  "When the source's last successful backup started, in unix seconds (0: never); labels are its tags.",
                  [](const SourceView& v) { return static_cast<double>(v.source.last_success_ns) / 1e9; });
  source_families("backspan_source_overdue", "gauge",
                  "1 if the source missed its schedule by more than the grace (declared or learned).",
                  [](const SourceView& v) { return v.freshness.overdue ? 1.0 : 0.0; });
  source_families("backspan_source_expected_by_timestamp_seconds", "gauge",
                  "When the source's next successful backup is due by its declared schedule (0: no declared schedule).",
                  [](const SourceView& v) { return static_cast<double>(v.freshness.expected_by_ns) / 1e9; });
  w.Family("backspan_source_state", "gauge", "1 for the source's state: ok, running, late, overdue, failing or paused.");
  for (const auto& v : board)
    for (SourceHealth h : {SourceHealth::kOk, SourceHealth::kRunning, SourceHealth::kLate, SourceHealth::kOverdue,
                           SourceHealth::kFailing, SourceHealth::kPaused})
      w.Sample("backspan_source_state", SourceTagLabels(v.source) + ",state=\"" + HealthName(h) + "\"",
               v.freshness.state == h ? 1.0 : 0.0);
  w.Family("backspan_agent_up", "gauge", "1 if the agent's last heartbeat is at most three intervals old.");
  for (const auto& a : in.agents) w.Sample("backspan_agent_up", AgentLabels(a), AgentUp(a, in.now_ns) ? 1.0 : 0.0);
  w.Family("backspan_agent_last_heartbeat_timestamp_seconds", "gauge", "When the agent's last heartbeat arrived.");
  for (const auto& a : in.agents)
    w.Sample("backspan_agent_last_heartbeat_timestamp_seconds", AgentLabels(a), static_cast<double>(a.received_ns) / 1e9);
  w.Family("backspan_agent_spool_entries", "gauge", "Entries waiting in the agent's spool at its last heartbeat.");
  for (const auto& a : in.agents) w.Sample("backspan_agent_spool_entries", AgentLabels(a), static_cast<double>(a.spool_entries));
  w.Family("backspan_agent_spool_dropped_total", "counter", "Spool entries the agent dropped to stay under its limit.");
  for (const auto& a : in.agents)
    w.Sample("backspan_agent_spool_dropped_total", AgentLabels(a), static_cast<double>(a.spool_dropped));

  w.Family("backspan_backup_duration_seconds", "histogram", "How long backups took, per source.");
  for (const auto& s : src) {
    const std::string labels = SourceLabels(s);
    int64_t cumulative = 0;
    for (size_t b = 0; b < s.duration_buckets.size(); ++b) {
      cumulative += s.duration_buckets[b];
      std::string le = b < std::size(kDurationBucketsSeconds) ? Num(kDurationBucketsSeconds[b]) : "+Inf";
      w.Sample("backspan_backup_duration_seconds_bucket", labels + ",le=\"" + le + "\"", static_cast<double>(cumulative));
    }
    w.Sample("backspan_backup_duration_seconds_sum", labels, s.duration_seconds_sum);
    w.Sample("backspan_backup_duration_seconds_count", labels, static_cast<double>(s.jobs_total));
  }

  RenderInsight(in, w);

  w.Family("backspan_jobs_total", "counter", "Jobs of every kind stored, by kind and status.");
  for (const auto& c : in.job_counts)
    w.Sample("backspan_jobs_total", "kind=\"" + Escape(c.kind) + "\",status=\"" + Escape(c.status) + "\"",
             static_cast<double>(c.count));
  w.Family("backspan_jobs_running", "gauge", "Jobs reported in progress and not yet finished.");
  w.Sample("backspan_jobs_running", "", static_cast<double>(in.stats.running_jobs));
  w.Family("backspan_store_jobs", "gauge", "Jobs in the store.");
  w.Sample("backspan_store_jobs", "", static_cast<double>(in.stats.jobs));
  if (!in.server_wide) return w.Take();

  w.Family("backspan_store_size_bytes", "gauge", "Size of the store's database file.");
  w.Sample("backspan_store_size_bytes", "", static_cast<double>(in.stats.bytes));
  const http::ServerStats& h = in.http;
  w.Family("backspan_http_connections_open", "gauge", "HTTP connections open now.");
  w.Sample("backspan_http_connections_open", "", static_cast<double>(h.connections_open));
  w.Family("backspan_http_connections_total", "counter", "HTTP connections accepted, by result.");
  w.Sample("backspan_http_connections_total", "result=\"served\"",
           static_cast<double>(h.connections_accepted - h.connections_refused));
  w.Sample("backspan_http_connections_total", "result=\"refused\"", static_cast<double>(h.connections_refused));
  w.Family("backspan_http_requests_refused_total", "counter",
           "Requests refused before a handler ran, by reason: malformed framing, too slow, server busy.");
  w.Sample("backspan_http_requests_refused_total", "reason=\"malformed\"", static_cast<double>(h.malformed));
  w.Sample("backspan_http_requests_refused_total", "reason=\"timeout\"", static_cast<double>(h.timeouts));
  w.Sample("backspan_http_requests_refused_total", "reason=\"busy\"", static_cast<double>(h.busy));
  w.Family("backspan_http_buffered_bytes", "gauge", "Bytes of requests and responses the server holds now.");
  w.Sample("backspan_http_buffered_bytes", "", static_cast<double>(h.buffered_bytes));

  if (in.notify) {
    const NotifyCounters& n = *in.notify;
    w.Family("backspan_notify_events_total", "counter", "Events offered to the notifier, by result (queued or dropped: the queue was full).");
    w.Sample("backspan_notify_events_total", "result=\"queued\"", static_cast<double>(n.events - n.dropped));
    w.Sample("backspan_notify_events_total", "result=\"dropped\"", static_cast<double>(n.dropped));
    w.Family("backspan_notify_deliveries_total", "counter", "Notification deliveries, by result (failed: given up after retries).");
    w.Sample("backspan_notify_deliveries_total", "result=\"delivered\"", static_cast<double>(n.delivered));
    w.Sample("backspan_notify_deliveries_total", "result=\"failed\"", static_cast<double>(n.failed));
    w.Family("backspan_notify_open_incidents", "gauge", "Incidents open now (a problem not yet recovered).");
    w.Sample("backspan_notify_open_incidents", "", static_cast<double>(n.open_incidents));
  }
  if (!in.forward.empty()) {
    w.Family("backspan_forward_spans_total", "counter",
             "Spans sent on with --forward, by destination and result (sent: accepted by it; rejected: refused in a "
             "partial success; failed: given up on after retries; dropped: its queue was full).");
    for (const ForwardCounters& f : in.forward) {
      const std::string d = "destination=\"" + Escape(f.destination) + "\"";
      w.Sample("backspan_forward_spans_total", d + ",result=\"sent\"", static_cast<double>(f.sent));
      w.Sample("backspan_forward_spans_total", d + ",result=\"rejected\"", static_cast<double>(f.rejected));
      w.Sample("backspan_forward_spans_total", d + ",result=\"failed\"", static_cast<double>(f.failed));
      w.Sample("backspan_forward_spans_total", d + ",result=\"dropped\"", static_cast<double>(f.dropped));
    }
    const auto per_destination = [&](const char* name, const char* type, const char* help, auto value) {
      w.Family(name, type, help);
      for (const ForwardCounters& f : in.forward)
        w.Sample(name, "destination=\"" + Escape(f.destination) + "\"", static_cast<double>(value(f)));
    };
    per_destination("backspan_forward_retries_total", "counter", "Requests to a --forward destination tried again.",
                    [](const ForwardCounters& f) { return f.retries; });
    per_destination("backspan_forward_queue_spans", "gauge", "Spans waiting for a --forward destination.",
                    [](const ForwardCounters& f) { return f.queued; });
    per_destination("backspan_forward_queue_bytes", "gauge", "Bytes (compressed) waiting for a --forward destination.",
                    [](const ForwardCounters& f) { return f.queued_bytes; });
  }
  if (const IngestCounters* c = in.ingest) {
    w.Family("backspan_ingest_requests_total", "counter", "OTLP export requests received, by result.");
    w.Sample("backspan_ingest_requests_total", "result=\"ok\"", static_cast<double>(c->requests_ok));
    w.Sample("backspan_ingest_requests_total", "result=\"partial\"", static_cast<double>(c->requests_partial));
    w.Sample("backspan_ingest_requests_total", "result=\"rejected\"", static_cast<double>(c->requests_rejected));
    w.Sample("backspan_ingest_requests_total", "result=\"failed\"", static_cast<double>(c->requests_failed));
    w.Family("backspan_ingest_spans_total", "counter", "Spans received, by result.");
    w.Sample("backspan_ingest_spans_total", "result=\"accepted\"", static_cast<double>(c->spans_accepted));
    w.Sample("backspan_ingest_spans_total", "result=\"rejected\"", static_cast<double>(c->spans_rejected));
    w.Family("backspan_ingest_received_bytes_total", "counter", "Bytes of request bodies received, after decompression.");
    w.Sample("backspan_ingest_received_bytes_total", "", static_cast<double>(c->bytes_received));
    w.Family("backspan_ingest_commit_wait_seconds_total", "counter", "Time requests spent waiting for their commit.");
    w.Sample("backspan_ingest_commit_wait_seconds_total", "", static_cast<double>(c->commit_wait_micros) / 1e6);
  }
  if (in.server_wide) {
    w.Family("backspan_store_leader", "gauge",
             "1 if this server runs the background work that runs once for every server sharing its store.");
    w.Sample("backspan_store_leader", "", in.leader ? 1.0 : 0.0);
  }
  w.Family("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
  w.Sample("process_start_time_seconds", "", in.process_start_seconds);
  return w.Take();
}

}  // namespace backspan::observatory
