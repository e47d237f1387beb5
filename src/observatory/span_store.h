// The observatory's store: spans grouped by trace, a row per job, per-hour
// rollups for trends, and per-source state for freshness and metrics, in one
// SQLite database in WAL mode (schema: docs/observatory.md).
//
// One writer thread commits every pending batch in one transaction (group
// commit); Write returns only once its batch is durable, so a 200 is never
// given for spans a crash could lose. Queries run on per-thread read
// connections alongside the writer. Every query takes the caller's Scope.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "observatory/ingest_batch.h"
#include "observatory/scope.h"
#include "util/status.h"

namespace backspan {
class Env;
}

namespace backspan::observatory {

struct StoreOptions {
  std::string dir;              // the database lives at dir/observatory.db
  int64_t retention_ns = 0;     // 0: keep forever
  int64_t max_bytes = 0;        // 0: no size limit
  bool sync_full = true;        // fsync every commit (survives power loss, not only crashes)
  int64_t retention_check_interval_ns = 60'000'000'000;  // also applied at startup
  // A running job with no update for this long is reported as lost (0: never).
  int64_t lost_after_ns = 6LL * 3600 * 1'000'000'000;
};

struct JobQuery {
  int64_t since_ns = 0, until_ns = INT64_MAX;  // on the job's start
  std::string kind, status, host;              // status: kStatus*, kStatusLost included
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

// A trace's stored spans, as serialized OTLP ResourceSpans messages.
struct StoredTrace {
  std::vector<std::string> finished;
  std::vector<std::string> live;  // in-progress snapshots of spans not yet finished
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

class SpanStore {
 public:
  // Opens or creates the store under options.dir. `env` is the clock.
  static Result<std::unique_ptr<SpanStore>> Open(const StoreOptions& options, Env* env);
  ~SpanStore();

  // Stores a decoded batch for a caller who may write in `writer`; returns
  // once it is committed (durably with sync_full). Safe from any thread;
  // concurrent calls share a commit. Every write lands here, so this is
  // where the rule holds that a caller may replace only what it may write:
  // a span whose stored version (finished, in progress, or its job's row)
  // lies outside `writer` is left out and reported in the outcome.
  Result<WriteOutcome> Write(IngestBatch batch, const Scope& writer = Scope::All());

  Result<JobPage> ListJobs(const JobQuery& q, const Scope& scope);
  // NotFound if the trace has no span the scope allows (the caller filters
  // spans by scope; see trace_view.h).
  Result<StoredTrace> GetTrace(const trace::TraceId& id);
  Result<Trend> GetTrend(const TrendQuery& q, const Scope& scope);
  Result<std::vector<SourceState>> Sources(const Scope& scope);
  // Jobs ever stored by kind and status (counters that survive restarts).
  // A restricted scope (or one without the audit log) counts the finished
  // jobs it can see that are still stored instead (the counters are not
  // kept per scope).
  Result<std::vector<JobCount>> JobCounts(const Scope& scope = Scope::All());
  // Known tag keys with up to `values_per_key` values each, for the UI's pickers.
  Result<std::vector<std::pair<std::string, std::vector<std::string>>>> TagKeys(int values_per_key);
  // Jobs stored and running in `scope`; the database's size only for the
  // unrestricted scope (else 0).
  Result<StoreStats> Stats(const Scope& scope = Scope::All());
  // Whether a query can run now (for /readyz): cheap, unlike Stats.
  Status CheckReadable();

 private:
  struct Impl;
  explicit SpanStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace backspan::observatory
