// The store as the server writes through it: every write goes on to the
// real store, and the jobs it stored go to insight afterwards, so insight
// sees exactly what was stored, whichever endpoint wrote it.
#pragma once

#include "observatory/insight/insight_engine.h"
#include "observatory/store/span_store.h"

namespace backspan::observatory::insight {

class ObservedStore final : public SpanStore {
 public:
  ObservedStore(SpanStore* store, InsightEngine* insight) : store_(store), insight_(insight) {}

  Result<WriteOutcome> Write(IngestBatch batch, const Scope& writer) override;
  Result<JobPage> ListJobs(const JobQuery& q, const Scope& scope) override { return store_->ListJobs(q, scope); }
  Result<StoredTrace> GetTrace(const trace::TraceId& id, const Scope& scope) override { return store_->GetTrace(id, scope); }
  Result<Trend> GetTrend(const TrendQuery& q, const Scope& scope) override { return store_->GetTrend(q, scope); }
  Result<std::vector<SourceState>> Sources(const Scope& scope) override { return store_->Sources(scope); }
  Result<std::vector<AgentRecord>> Agents(const Scope& scope) override { return store_->Agents(scope); }
  Result<std::vector<JobCount>> JobCounts(const Scope& scope) override { return store_->JobCounts(scope); }
  Result<std::vector<std::pair<std::string, std::vector<std::string>>>> TagKeys(int values_per_key,
                                                                               const Scope& scope) override {
    return store_->TagKeys(values_per_key, scope);
  }
  Result<StoreStats> Stats(const Scope& scope) override { return store_->Stats(scope); }
  Status CheckReadable() override { return store_->CheckReadable(); }

 private:
  SpanStore* store_;
  InsightEngine* insight_;
};

}  // namespace backspan::observatory::insight
