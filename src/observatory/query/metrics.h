// /metrics in the Prometheus text exposition format (version 0.0.4): per
// backup source the metrics Velero exposes per schedule, and the server's
// own ingest counters.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <optional>
#include <vector>

#include "http/server.h"
#include "observatory/store/span_store.h"

namespace backspan::observatory {

// Counted by the receiver since the process started.
struct IngestCounters {
  std::atomic<uint64_t> requests_ok{0}, requests_partial{0}, requests_rejected{0}, requests_failed{0};
  std::atomic<uint64_t> spans_accepted{0}, spans_rejected{0}, bytes_received{0};
  std::atomic<uint64_t> commit_wait_micros{0};  // total time requests waited for their commit
};

// The notifier's counters (server-wide).
struct NotifyCounters {
  int64_t events = 0, dropped = 0, notifications = 0, delivered = 0, failed = 0, open_incidents = 0;
};

// One `serve --forward` destination's counters (server-wide).
struct ForwardCounters {
  std::string destination;
  uint64_t sent = 0, rejected = 0, failed = 0, dropped = 0, retries = 0, queued = 0, queued_bytes = 0;
};

// Insight's numbers (docs/insight.md): anomalies raised per kind and
// source, and each source's outlook.
struct AnomalyCounter {
  std::string kind;
  int64_t source_id = 0;
  int64_t count = 0;
};
struct SourceOutlook {
  int64_t source_id = 0;
  int overrun_runs_ahead = -1;  // -1: no overrun predicted
  double p_fail = 0, p_missed = 0;
  std::optional<double> p_overrun;
};

struct MetricsInput {
  std::vector<SourceState> sources;
  std::vector<AgentRecord> agents;
  std::vector<JobCount> job_counts;
  StoreStats stats;
  // Whether the caller may read everything: only then are the server's own
  // counters (ingest, HTTP) and the store's size shown, since they count
  // what happens in every scope.
  bool server_wide = true;
  const IngestCounters* ingest = nullptr;
  http::ServerStats http;
  int64_t now_ns = 0;
  int64_t default_stale_ns = 0;
  double process_start_seconds = 0;
  bool leader = true;  // this process runs the store's once-only background work
  std::optional<NotifyCounters> notify;  // with notifications configured
  std::vector<ForwardCounters> forward;  // with --forward
  std::vector<AnomalyCounter> anomalies;
  std::vector<SourceOutlook> outlook;
};

std::string RenderMetrics(const MetricsInput& in);

}  // namespace backspan::observatory
