// What one OTLP export request becomes once decoded and checked: the spans
// to store, grouped by trace, and a row per job (root span) for the queries.
// Produced by ingest/otlp_decoder.h on the request's thread, consumed by the
// store's writer, so the expensive work runs in parallel and the writer only
// writes.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "observatory/access/scope.h"
#include "trace/semconv.h"
#include "trace/span_data.h"

namespace backspan::observatory {

// A backup source's identity: the host, the service that reported it, the
// paths (sorted, joined with spaces) and the job's tags ("KEY=VALUE",
// sorted). Backups and missed runs compute it from their spans, agents
// from the policies they declare, so the two meet on one source.
std::string SourceKey(const std::string& host, const std::string& service, std::vector<std::string> paths,
                      std::vector<std::string> tags, std::string* joined_paths = nullptr);

// A policy an agent declares in its heartbeat: when its source is expected.
struct DeclaredPolicy {
  std::string name, schedule, timezone, repository;
  std::vector<std::string> paths;
  std::vector<Tag> tags;
  std::string resource_group;  // its azure.resource_group.name tag
  std::string source_key;      // where its backups land (SourceKey)
  int64_t window_seconds = 0;  // 0: until the next tick
  int64_t grace_seconds = 0;   // 0: the default (docs/agent.md)
  std::string error;           // the agent cannot run it
  std::string last_outcome;
  bool running = false, paused = false;
  bool restores = false;  // the agent restores it on request (it has a restore root)
  int64_t first_declared_ns = 0;  // when the observatory first heard of it
};

// The newest heartbeat of an agent.
struct AgentRecord {
  std::string name, host, version;
  int64_t sent_ns = 0;      // the agent's clock
  int64_t received_ns = 0;  // the observatory's
  int64_t interval_seconds = 60;
  bool stopping = false;
  int64_t spool_entries = 0, spool_bytes = 0, spool_dropped = 0;
  std::vector<DeclaredPolicy> policies;
};


// A job: any root span (one without a parent). Columns the queries filter,
// group and sum by are pulled out of its attributes (resource attributes
// included; the span's own win).
struct JobRecord {
  trace::TraceId trace_id{};
  trace::SpanId span_id{};
  std::string name;
  std::string kind;    // backspan.job.kind, else the span name
  std::string status;  // one of semconv::kJobStatus*
  std::string host;    // host.name
  std::string service; // service.name
  std::string resource_group;  // azure.resource_group.name: the unit of access scopes
  int64_t start_ns = 0, end_ns = 0;  // end = last update for a running job
  int64_t bytes_added = 0, bytes_total = 0, files_total = 0;
  // What insight (docs/insight.md) reads besides: new and changed files,
  // bytes read and written to the repository, the deadline (0: none).
  int64_t files_changed = 0, bytes_read = 0, bytes_stored = 0, deadline_ns = 0;
  std::string error_type, error_message, snapshot_id;
  // String and boolean attributes a user can filter and group by, sorted by key.
  std::vector<Tag> tags;
  // For backup jobs: what was backed up (host, paths, tags); its freshness is
  // tracked. Empty for other jobs.
  std::string source_key, source_paths;
  // A newer version of a job that may already be finished (an alert that was
  // resolved, a record re-exported with more detail): it replaces the stored
  // row and its counts. Without it, a finished job is final and a second
  // copy is a duplicate delivery.
  bool revision = false;
};

// The spans of one trace from one request, as a serialized OTLP
// ResourceSpans (resource and scopes kept), compressed.
struct TraceChunk {
  trace::TraceId trace_id{};
  int64_t start_ns = 0;   // earliest span start, for retention
  int32_t span_count = 0;
  std::vector<trace::SpanId> span_ids;  // of the spans in body, in order
  std::string body;       // zstd, or raw if raw_length == 0
  uint64_t raw_length = 0;
};

// An in-progress snapshot of an open span: replaced by later snapshots of the
// same span id, and removed when the finished span arrives.
struct LiveSpan {
  trace::TraceId trace_id{};
  trace::SpanId span_id{};
  int64_t start_ns = 0;
  std::string body;  // serialized ResourceSpans with this one span
};

struct IngestBatch {
  std::vector<TraceChunk> chunks;
  std::vector<LiveSpan> live;            // only from the in-progress endpoint
  std::vector<trace::SpanId> finished;   // span ids stored, to retire their live snapshots
  std::vector<JobRecord> jobs;
  std::vector<AgentRecord> agents;       // heartbeats; a newer one replaces an older
  int64_t accepted = 0, rejected = 0;
  std::string rejection;  // why the first rejected span was rejected
};

}  // namespace backspan::observatory
