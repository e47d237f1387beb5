// A SpanStore that passes every call on to another one: the base of the
// stores that add one concern to the server's writes (insight's hand-over,
// forwarding) and override Write alone.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "observatory/store/span_store.h"

namespace backspan::observatory {

class StoreDecorator : public SpanStore {
 public:
  // `inner` is not owned and outlives this.
  explicit StoreDecorator(SpanStore* inner) : inner_(inner) {}

  Result<WriteOutcome> Write(IngestBatch batch, const Scope& writer) override {
    return inner_->Write(std::move(batch), writer);
  }
  Result<JobPage> ListJobs(const JobQuery& q, const Scope& scope) override { return inner_->ListJobs(q, scope); }
  Result<StoredTrace> GetTrace(const trace::TraceId& id, const Scope& scope) override {
    return inner_->GetTrace(id, scope);
  }
  Result<Trend> GetTrend(const TrendQuery& q, const Scope& scope) override { return inner_->GetTrend(q, scope); }
  Result<std::vector<SourceState>> Sources(const Scope& scope) override { return inner_->Sources(scope); }
  Result<std::vector<AgentRecord>> Agents(const Scope& scope) override { return inner_->Agents(scope); }
  Result<std::vector<JobCount>> JobCounts(const Scope& scope) override { return inner_->JobCounts(scope); }
  Result<std::vector<std::pair<std::string, std::vector<std::string>>>> TagKeys(int values_per_key,
                                                                               const Scope& scope) override {
    return inner_->TagKeys(values_per_key, scope);
  }
  Result<StoreStats> Stats(const Scope& scope) override { return inner_->Stats(scope); }
  Status CheckReadable() override { return inner_->CheckReadable(); }
  bool Leads() override { return inner_->Leads(); }
  void OnJobsWrittenElsewhere(std::function<void(std::vector<JobRecord>)> fn) override {
    inner_->OnJobsWrittenElsewhere(std::move(fn));
  }
  SharedState* Shared() override { return inner_->Shared(); }

 protected:
  SpanStore* inner() const { return inner_; }

 private:
  SpanStore* inner_;
};

}  // namespace backspan::observatory
