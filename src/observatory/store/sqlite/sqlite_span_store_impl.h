// Internals of SqliteSpanStore shared by its translation units: the writer
// (sqlite_span_store.cc), the write rule (ownership.cc), the queries
// (queries.cc) and trends (trends.cc).
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "observatory/store/commit_queue.h"
#include "observatory/store/parsed_rows.h"
#include "observatory/store/sqlite/job_aggregates.h"
#include "observatory/store/sqlite/job_rows.h"
#include "observatory/store/sqlite/sqlite_span_store.h"
#include "storage/sqlite.h"

namespace backspan::observatory {

struct SqliteSpanStore::Impl {
  StoreOptions options;
  Env* env = nullptr;
  std::string path;

  // The writer, and the batches waiting for its commit.
  using Pending = CommitQueue::Request;
  CommitQueue queue;
  std::thread writer;
  sql::Db wdb;  // the writer's connection; only the writer thread touches it
  std::unordered_map<std::string, int64_t> tag_ids;  // "key\0value" -> tags.id
  JobAggregates aggregates;  // rollups, sources and counts, written in batches
  int64_t aggregates_written_ns = 0;
  int64_t live_count = 0;
  int64_t last_retention_ns = 0;

  // Read connections, reused.
  std::mutex pool_mu;
  std::vector<sql::Db> pool;

  ParsedRows parsed;  // sources and heartbeats as last read

  // A read connection for the duration of a query.
  class Reader {
   public:
    explicit Reader(Impl* impl);
    ~Reader();
    sql::Db* operator->() { return &db_; }
    sql::Db& db() { return db_; }
    Status status() const { return status_; }

   private:
    Impl* impl_;
    sql::Db db_;
    Status status_;
  };

  void WriterLoop();
  Status Apply(IngestBatch& batch);
  // Leaves out of `batch` the spans whose stored versions `caller` may not
  // write (ownership.cc), counting them in `outcome`.
  Status RejectForeignReplacements(IngestBatch& batch, const Scope& caller, WriteOutcome* outcome);
  Status ApplyJob(const JobRecord& job);
  // The stored row `id`, read by the writer.
  Result<JobRow> ReadJobById(int64_t id);
  // Commits the writer's transaction if `st` is ok; otherwise, or if the
  // commit fails, rolls it back and rebuilds what the rollback took from the
  // caches. Returns why it failed.
  Status EndTransaction(Status st);
  // After a rollback: what the aggregates held unwritten is gone; rebuild it.
  Status RecoverAggregates();
  Result<int64_t> TagId(const std::string& key, const std::string& value);
  Status Retain();
  Status DeleteOlderThan(int64_t cutoff_ns, bool sources_too);
};


}  // namespace backspan::observatory
