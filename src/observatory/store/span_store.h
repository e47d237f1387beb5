// The observatory's store: spans grouped by trace, a row per job, rollups
// for trends, and per-source state for freshness and metrics. This header is
// the contract (the SpanStore interface and the types it speaks); the
// implementations live in subfolders.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "observatory/access/scope.h"
#include "observatory/store/records.h"
#include "observatory/store/shared_state.h"
#include "util/status.h"

namespace backspan::observatory {

struct StoreOptions {
  std::string dir;              // SQLite: the database lives at dir/observatory.db
  std::string uri;              // PostgreSQL: libpq's connection URI (postgresql://...)
  int64_t retention_ns = 0;     // 0: keep forever
  int64_t max_bytes = 0;        // 0: no size limit
  bool sync_full = true;        // fsync every commit (survives power loss, not only crashes)
  int64_t retention_check_interval_ns = 60'000'000'000;  // also applied at startup
  // A running job with no update for this long is reported as lost (0: never).
  int64_t lost_after_ns = 6LL * 3600 * 1'000'000'000;
};

struct JobQuery {
  int64_t since_ns = 0, until_ns = INT64_MAX;  // on the job's start
  std::string kind, status, host;              // status: semconv::kJobStatus*, Lost included
  std::vector<Tag> tags;                       // all must match
  int64_t min_duration_ns = -1, max_duration_ns = -1;
  std::string text;                            // in the error message or type, any case
  int limit = 100;
  // Keyset pagination: only jobs before this (start, id) position.
  int64_t before_start_ns = INT64_MAX, before_id = INT64_MAX;
};

struct JobRow : JobRecord {
  int64_t id = 0;
  int64_t updated_ns = 0;  // last write: for a running job, its last in-progress update
};

struct JobPage {
  std::vector<JobRow> jobs;
  bool more = false;
};

// A trace's stored spans that a scope allows, as serialized OTLP
// ResourceSpans messages.
struct StoredTrace {
  std::vector<std::string> finished;
  std::vector<std::string> live;  // in-progress snapshots of spans not yet finished
  int64_t hidden = 0;             // distinct spans left out: outside the scope
};

enum class TrendMetric { kDuration, kThroughput, kBytesAdded, kSuccessRate, kJobCount, kFailures };

struct TrendQuery {
  TrendMetric metric = TrendMetric::kDuration;
  int64_t bucket_ns = 3'600'000'000'000;  // an hour or a day
  std::string group_by;                   // a tag key; empty: one series
  std::string kind;                       // empty: every kind
  int64_t since_ns = 0, until_ns = 0;
};

struct TrendSeries {
  std::string group;
  std::vector<double> value;     // the metric per bucket (duration: the mean, seconds)
  std::vector<double> p50, p95;  // duration only, seconds
  std::vector<int64_t> jobs;     // jobs per bucket
};

struct Trend {
  std::vector<int64_t> bucket_start_ns;
  std::vector<TrendSeries> series;
};

// A backup source: what one schedule backs up (host, paths, tags).
struct SourceState {
  int64_t id = 0;
  std::string key;  // SourceKey
  std::string host, service, paths, resource_group;
  std::vector<Tag> tags;
  int64_t first_seen_ns = 0, last_job_ns = 0, last_success_ns = 0;
  std::string last_status, last_trace_id;
  int64_t jobs_total = 0, success_total = 0, partial_total = 0, failed_total = 0, bytes_added_total = 0;
  double duration_seconds_sum = 0;
  std::vector<int64_t> duration_buckets;  // counts per kDurationBucketsSeconds bucket, then +Inf
  std::vector<int64_t> recent_success_ns; // the last few successful starts, oldest first
};

// Upper bounds of the per-source duration histogram (Prometheus buckets).
inline constexpr double kDurationBucketsSeconds[] = {1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200, 14400, 28800};

struct StoreStats {
  int64_t jobs = 0, running_jobs = 0, bytes = 0;
};

// What a write left out: spans that would have replaced (or, for a job,
// merged into) a stored span or job outside the writer's scope. They are
// rejected items of the request, never an error of the batch.
struct WriteOutcome {
  int64_t rejected = 0;
  std::vector<trace::SpanId> rejected_spans;
  std::string rejection;  // why the first was rejected
};

struct JobCount {
  std::string kind, status;
  int64_t count = 0;
};

// The store's interface: what ingest writes through and what the queries
// and the API read through. The SQLite implementation is
// sqlite/sqlite_span_store.h; a second implementation satisfies this
// contract without touching ingest, query or api. Every query takes the
// caller's Scope; Scope::All() is the unrestricted one.
class SpanStore {
 public:
  virtual ~SpanStore() = default;

  // Stores a decoded batch for a caller who may write in `writer`; returns
  // once it is committed (durably with sync_full). Safe from any thread;
  // concurrent calls share a commit. Every write lands here, so this is
  // where the rule holds that a caller may replace only what it may write:
  // a span whose stored version (finished, in progress, or its job's row)
  // lies outside `writer` is left out and reported in the outcome.
  virtual Result<WriteOutcome> Write(IngestBatch batch, const Scope& writer) = 0;

  virtual Result<JobPage> ListJobs(const JobQuery& q, const Scope& scope) = 0;
  // The trace's spans that `scope` allows. NotFound if nothing of the trace
  // is stored; a trace stored only outside the scope has no spans and a
  // `hidden` count (the caller answers as if it did not exist).
  virtual Result<StoredTrace> GetTrace(const trace::TraceId& id, const Scope& scope) = 0;
  virtual Result<Trend> GetTrend(const TrendQuery& q, const Scope& scope) = 0;
  virtual Result<std::vector<SourceState>> Sources(const Scope& scope) = 0;
  // The agents' newest heartbeats (Write stores them), those `scope`
  // reaches (AgentInScope), with only the policies it reaches.
  virtual Result<std::vector<AgentRecord>> Agents(const Scope& scope) = 0;
  // Jobs ever stored by kind and status (counters that survive restarts).
  // A restricted scope (or one without the audit log) counts the finished
  // jobs it can see that are still stored instead (the counters are not
  // kept per scope).
  virtual Result<std::vector<JobCount>> JobCounts(const Scope& scope) = 0;
  // Known tag keys with up to `values_per_key` values each, for the UI's
  // pickers: only values some job in `scope` carries.
  virtual Result<std::vector<std::pair<std::string, std::vector<std::string>>>> TagKeys(int values_per_key,
                                                                                       const Scope& scope) = 0;
  // Jobs stored and running in `scope`; the database's size only for the
  // unrestricted scope (else 0).
  virtual Result<StoreStats> Stats(const Scope& scope) = 0;
  // Whether a query can run now (for /readyz): cheap, unlike Stats.
  virtual Status CheckReadable() = 0;
  // Whether this process leads: runs the background work that must run once
  // across every process sharing the store (expectations and their
  // notifications). A store that one process opens alone always leads; a
  // shared one elects a leader, and another takes over when it goes.
  virtual bool Leads() { return true; }
  // Calls `fn` with the jobs other processes sharing the store wrote (rows
  // new or changed, as stored), from a thread of the store's, soon after
  // they commit: how insight in every replica sees every job. A store one
  // process opens alone never calls it. Set once, before writes begin.
  virtual void OnJobsWrittenElsewhere(std::function<void(std::vector<JobRecord>)> fn) { (void)fn; }
  // The documents every process sharing the store sees (shared_state.h);
  // null for a store one process opens alone. Owned by the store.
  virtual SharedState* Shared() { return nullptr; }
};

}  // namespace backspan::observatory
