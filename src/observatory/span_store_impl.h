// Internals of SpanStore shared by its translation units: the writer
// (span_store.cc), the queries (store_queries.cc) and trends (store_trends.cc).
#pragma once

#include <atomic>
#include <map>
#include <variant>
#include <unordered_map>

#include "observatory/job_aggregates.h"
#include "observatory/span_store.h"
#include "storage/sqlite.h"

namespace backspan::observatory {

struct SpanStore::Impl {
  StoreOptions options;
  Env* env = nullptr;
  std::string path;

  // The writer: the queue of batches waiting for a commit.
  struct Pending {
    IngestBatch batch;
    Scope writer;
    WriteOutcome outcome;
    Status result;
    bool done = false;
  };
  std::mutex mu;
  std::condition_variable cv_work, cv_done;
  std::deque<Pending*> queue;
  bool stopping = false;
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
  // write (store_ownership.cc), counting them in `outcome`.
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

// Builds a query's WHERE clause and its bindings together.
class Where {
 public:
  void Add(std::string clause) { clauses_.push_back(std::move(clause)); }
  template <typename T>
  std::string Param(T v) {
    params_.emplace_back(std::move(v));
    std::string p = "?";
    p += std::to_string(params_.size());
    return p;
  }
  std::string Sql() const {
    std::string out;
    for (const auto& c : clauses_) {
      out += out.empty() ? " WHERE " : " AND ";
      out += c;
    }
    return out;
  }
  void BindAll(sql::Stmt& st) const {
    for (size_t i = 0; i < params_.size(); ++i) {
      int idx = static_cast<int>(i + 1);
      if (auto* n = std::get_if<int64_t>(&params_[i])) st.Bind(idx, *n);
      else st.Bind(idx, std::get<std::string>(params_[i]));
    }
  }

 private:
  std::vector<std::string> clauses_;
  std::vector<std::variant<int64_t, std::string>> params_;
};

// Runs `sql` with `where`'s bindings (if any) and calls fn(row) for each
// row until fn returns false.
template <typename Fn>
Status ForEachRow(sql::Db& db, const std::string& sql, const Where* where, Fn&& fn) {
  auto st = db.Prepare(sql);
  if (!st.ok()) return st.status();
  if (where) where->BindAll(*st);
  while (true) {
    auto row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row || !fn(*st)) return Status::Ok();
  }
}

// tags.id of KEY=VALUE, or 0 if no job ever had it.
Result<int64_t> FindTagId(sql::Db& db, const Tag& tag);
// Adds the scope as SQL over jobs aliased `j`; false if nothing can match
// (or on error, then set in `error`).
bool AddScopeClause(sql::Db& db, const Scope& scope, Where& where, Status* error);

inline constexpr int64_t kHourNs = 3'600'000'000'000;
inline constexpr int64_t kDayNs = 24 * kHourNs;

// The jobs table's columns, each prefixed with `alias` (e.g. "j."), in the
// order ReadJob expects them.
std::string JobColumns(const std::string& alias = "");
JobRow ReadJob(sql::Stmt& row);

// Whether two versions of a job have the same columns (updated_ns aside).
bool SameJob(const JobRecord& a, const JobRecord& b);

// Tags as a JSON object and back (the jobs and sources tables keep them so).
std::string TagsToJson(const std::vector<Tag>& tags);
std::vector<Tag> TagsFromJson(const std::string& json);

}  // namespace backspan::observatory
