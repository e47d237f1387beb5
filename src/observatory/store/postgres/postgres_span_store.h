// The observatory's store on PostgreSQL (docs/observatory.md,
// "PostgreSQL"): several `serve` replicas share one database, each
// accepting writes and answering every query. Everything a query reads is
// in the database and written in the same transaction as the jobs it
// derives from (rollups, sources, counters), so replicas never double-count
// or lose a job; background work (retention) runs under an advisory lock,
// once across replicas.
#pragma once

#include <memory>

#include "env/env.h"
#include "observatory/store/span_store.h"

namespace backspan::observatory {

class PostgresSpanStore : public SpanStore {
 public:
  // Connects to options.uri and creates or upgrades the schema. IOError if
  // the server cannot be reached; Unsupported if a newer backspan wrote
  // the schema.
  static Result<std::unique_ptr<SpanStore>> Open(const StoreOptions& options, Env* env);
  ~PostgresSpanStore() override;

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
  // The replica holding the leader's advisory lock leads; a session's lock
  // goes with it, so when the leader dies another takes it within seconds.
  bool Leads() override;
  // Replicas tell each other of the jobs they stored (NOTIFY at commit);
  // one that was disconnected misses what was written meanwhile.
  void OnJobsWrittenElsewhere(std::function<void(std::vector<JobRecord>)> fn) override;
  // In the documents and queued tables.
  SharedState* Shared() override;

  struct Impl;

 private:
  explicit PostgresSpanStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace backspan::observatory
