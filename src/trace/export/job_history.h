// The local job history: every job's spans, kept in SQLite under the user's
// state directory, so `backspan jobs` and `backspan trace` work with no
// collector at all. Several processes may write at once (WAL, busy timeout).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "trace/exporter.h"
#include "util/status.h"

namespace backspan {
class Env;
}

namespace backspan::trace {

// The directory for the history: BACKSPAN_STATE_DIR, else
// $XDG_STATE_HOME/backspan, else ~/.local/state/backspan.
std::string DefaultStateDir();

// One job: its root span, summarised.
struct JobRecord {
  std::string job_id;    // the root span's id, hex
  std::string trace_id;  // hex
  std::string kind;      // backup, restore, check, ...
  int64_t start_ns = 0, end_ns = 0;
  std::string status;  // semconv::kJobStatus*: ok, partial, failed or interrupted
  std::string error_type;
  std::string repository, host, snapshot_id;
  int64_t bytes_read = 0, bytes_added = 0, bytes_stored = 0;
  std::vector<std::string> tags;  // KEY=VALUE
};

struct JobFilter {
  std::vector<std::string> tags;  // the job has every one
  std::string status;             // "", a job status, or "error": every status but ok
  int64_t since_ns = 0;           // started at or after
  size_t limit = 100;             // newest first
};

// How long jobs stay in the history.
inline constexpr int64_t kHistoryRetentionNs = 180LL * 24 * 3600 * 1'000'000'000;

class JobHistory {
 public:
  // Opens (creating if needed) the history database in `dir`.
  static Result<std::unique_ptr<JobHistory>> Open(const std::string& dir);
  ~JobHistory();

  // Stores spans; a span carrying backspan.job.kind is recorded as a job.
  // Jobs older than kHistoryRetentionNs (by `now_ns`) are removed.
  Status Store(const Resource& resource, const std::vector<SpanData>& spans, int64_t now_ns);
  Result<std::vector<JobRecord>> ListJobs(const JobFilter& filter);
  // The spans of the job or trace whose id (job id or trace id) starts with
  // `id_prefix`; kNotFound or kAmbiguous otherwise. `jobs` gets its jobs.
  Result<std::vector<SpanData>> LoadTrace(const std::string& id_prefix, std::vector<JobRecord>* jobs);

 private:
  struct Db;
  explicit JobHistory(std::unique_ptr<Db> db);
  Status StoreInTransaction(const Resource& resource, const std::vector<SpanData>& spans, int64_t now_ns);
  std::unique_ptr<Db> db_;
};

// Buffers a job's spans and stores them in the history when flushed (at
// the end of the job), in one transaction. The database is opened only
// then, so its memory never adds to the job's peak.
class JobHistoryProcessor final : public SpanProcessor {
 public:
  JobHistoryProcessor(const Resource* resource, std::string dir, Env* env)
      : resource_(resource), dir_(std::move(dir)), env_(env) {}
  void OnEnd(SpanData span) noexcept override;
  Status ForceFlush(int64_t deadline_ns) noexcept override;
  Status Shutdown(int64_t deadline_ns) noexcept override { return ForceFlush(deadline_ns); }

 private:
  const Resource* resource_;
  std::string dir_;
  Env* env_;
  std::mutex mu_;
  std::vector<SpanData> pending_;
};

}  // namespace backspan::trace
