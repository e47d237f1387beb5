// Internals of PostgresSpanStore shared by its translation units: the
// connection pool, the writer (pg_writer.cc), what a commit derives from
// its jobs (pg_jobs.cc), and the queries (pg_queries.cc).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "observatory/store/commit_queue.h"
#include "observatory/store/parsed_rows.h"
#include "observatory/store/postgres/counted_jobs.h"
#include "observatory/store/postgres/postgres_span_store.h"
#include "observatory/store/rollup_delta.h"
#include "observatory/store/sql_where.h"
#include "storage/postgres.h"

namespace backspan::observatory {

// `bytes` (an id, a body) as a hex string, for decode(x, 'hex') in SQL.
std::string Hex(std::string_view bytes);
// A Where's values as libpq parameters.
std::vector<pg::Param> ParamsOf(const Where& where);
// Row `r` of a SELECT of JobColumns().
JobRow ReadJob(const pg::Rows& rows, int r);
// Taken (a transaction-level advisory lock) by whatever writes rollups,
// counters and sources: they are read, added to and written back whole.
inline constexpr const char* kLockAggregates = "SELECT pg_advisory_xact_lock(7074249406101771529)";
inline constexpr const char* kTryLockAggregates = "SELECT pg_try_advisory_xact_lock(7074249406101771529)::int";
// Adds up to 200 rows of aggregate_deltas (any replica's) to rollups,
// counters and sources, in a transaction holding kLockAggregates; unless
// `wait`, does nothing when another connection holds it.
Status AddDeferred(pg::Connection& db, bool wait);
// Adds `rollups` to `table` (rollups or rollups_daily, whose period column
// is `period`) and the counts of `deltas` to job_counts, in a transaction
// that holds kLockAggregates.
Status AddToRollups(pg::Connection& db, const char* table, const char* period, const Rollups& rollups);
Status AddToJobCounts(pg::Connection& db, const AggregateDeltas& deltas);
// The same if any are waiting, before a read of the aggregates: a
// server's trends and counts include every write it answered.
Status AddPendingBeforeRead(pg::Connection& db);

// What replicas share: the documents and queued tables, through the pool.
class PgSharedState : public SharedState {
 public:
  explicit PgSharedState(PostgresSpanStore::Impl* impl) : impl_(impl) {}
  Result<std::optional<SharedDocument>> Get(const std::string& name) override;
  Result<int64_t> Put(const std::string& name, const std::string& body) override;
  Result<bool> Create(const std::string& name, const std::string& body) override;
  Result<bool> Replace(const std::string& name, const std::string& body, int64_t version) override;
  Result<std::vector<std::pair<std::string, SharedDocument>>> List(const std::string& prefix, int limit) override;
  Result<std::vector<std::pair<std::string, SharedDocument>>> ListAfter(const std::string& prefix,
                                                                        const DocumentPosition& after,
                                                                        int limit) override;
  Status Trim(const std::string& prefix, int keep) override;
  Status Enqueue(const std::string& queue, const std::vector<std::string>& bodies) override;
  Result<std::vector<std::string>> Dequeue(const std::string& queue, int max) override;

 private:
  PostgresSpanStore::Impl* impl_;
};

struct PostgresSpanStore::Impl {
  StoreOptions options;
  Env* env = nullptr;

  // Connections, reused; one that failed is dropped and a new one made.
  std::mutex pool_mu;
  std::vector<pg::Connection> pool;
  class Conn {
   public:
    explicit Conn(Impl* impl);
    ~Conn();
    pg::Connection* operator->() { return &c_; }
    pg::Connection& get() { return c_; }
    Status status() const { return status_; }

   private:
    Impl* impl_;
    pg::Connection c_;
    Status status_;
  };

  // The writer: batches wait in a queue and share a transaction.
  using Pending = CommitQueue::Request;
  CommitQueue queue;
  std::thread writer;
  // The other threads' stop.
  std::mutex mu;
  std::condition_variable cv_stop;
  bool stopping = false;
  pg::Connection wdb;  // the writer's; only the writer thread touches it
  std::set<int64_t> known_days;  // days with partitions, as last seen
  std::map<Tag, int64_t> tag_ids;  // cleared when a transaction rolls back
  int64_t last_retention_ns = 0;
  bool deferred = false;             // this writer deferred additions since it last added them
  int64_t last_deferred_flush_ns = 0;

  ParsedRows parsed;  // sources and heartbeats as last read
  PgSharedState shared{this};

  // Leadership: a thread that holds, or keeps trying to take, the leader's
  // session advisory lock on a connection of its own.
  std::atomic<bool> leading{false};
  std::thread elector;
  void ElectorLoop();

  // What replicas tell each other: each commit's jobs go out with NOTIFY
  // (tagged with this replica's id), and a thread LISTENs for the others'.
  std::string replica_id;
  std::function<void(std::vector<JobRecord>)> on_foreign_jobs;
  std::thread listener;
  void ListenerLoop();
  // Hands insight the jobs written since `since_ns`, missed while this
  // replica was not listening.
  Status CatchUpJobs(pg::Connection& db, int64_t since_ns);
  Status NotifyJobs(const std::vector<JobRecord>& written);

  void WriterLoop();
  // Commits `work` in one transaction, retrying conflicts and reconnecting;
  // sets each one's result.
  void Commit(const std::vector<Pending*>& work);
  // One attempt at a transaction of `work`.
  Status TryCommit(const std::vector<Pending*>& work);
  Status EnsureWriter();
  Status EnsurePartitions(const std::vector<Pending*>& work);
  Status LockTraces(const std::vector<Pending*>& work);
  Status RejectForeignReplacements(IngestBatch& batch, const Scope& caller, WriteOutcome* outcome);
  Status ApplySpans(const IngestBatch& batch);
  // The jobs of the whole transaction (pg_jobs.cc); what finished jobs add
  // to the aggregates goes to `counted`.
  Status ApplyJobs(const std::vector<const JobRecord*>& jobs, std::vector<CountedJob>* counted,
                   std::vector<JobRecord>* written);
  Status ApplyAgents(const std::vector<Pending*>& work);
  // Defers what finished jobs add to the aggregates to a row of
  // aggregate_deltas, in the writer's transaction (pg_aggregates.cc);
  // FlushDeferred adds such rows, in a transaction of its own.
  Status DeferCounted(const std::vector<CountedJob>& counted);
  Status FlushDeferred();
  // Retention, by whichever replica holds its advisory lock.
  Status Retain();
  Status RetainAsLeader();
};

}  // namespace backspan::observatory
