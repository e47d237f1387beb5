// The store in one SQLite database in WAL mode (schema: docs/observatory.md):
// the embedded default of `backspan serve`.
//
// One writer thread commits every pending batch in one transaction (group
// commit); Write returns only once its batch is durable, so a 200 is never
// given for spans a crash could lose. Queries run on per-thread read
// connections alongside the writer.
#pragma once

#include <memory>

#include "observatory/store/span_store.h"

namespace backspan {
class Env;
}

namespace backspan::observatory {

class SqliteSpanStore final : public SpanStore {
 public:
  // Opens or creates the store under options.dir (the database is
  // dir/observatory.db). `env` is the clock and the filesystem.
  static Result<std::unique_ptr<SpanStore>> Open(const StoreOptions& options, Env* env);
  ~SqliteSpanStore() override;

  Result<WriteOutcome> Write(IngestBatch batch, const Scope& writer) override;
  Result<JobPage> ListJobs(const JobQuery& q, const Scope& scope) override;
  Result<StoredTrace> GetTrace(const trace::TraceId& id, const Scope& scope) override;
  Result<Trend> GetTrend(const TrendQuery& q, const Scope& scope) override;
  Result<std::vector<SourceState>> Sources(const Scope& scope) override;
  Result<std::vector<AgentRecord>> Agents(const Scope& scope) override;
  Result<std::vector<JobCount>> JobCounts(const Scope& scope) override;
  Result<std::vector<std::pair<std::string, std::vector<std::string>>>> TagKeys(int values_per_key,
                                                                               const Scope& scope) override;
  Result<StoreStats> Stats(const Scope& scope) override;
  Status CheckReadable() override;

 private:
  struct Impl;
  explicit SqliteSpanStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace backspan::observatory
