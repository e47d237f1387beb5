// The store as `serve --forward` writes through it: every write goes to the
// store first, and what the store accepted (finished spans; in-progress
// snapshots are backspan's own extension and stay here) is handed to the
// forwarder, so a span the write rule refused is never forwarded.
#pragma once

#include "observatory/forward/forwarder.h"
#include "observatory/store/span_store.h"

namespace backspan::observatory {

class ForwardingStore final : public SpanStore {
 public:
  // Neither is owned; both outlive this.
  ForwardingStore(SpanStore* store, Forwarding* forwarding) : store_(store), forwarding_(forwarding) {}

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
  Forwarding* forwarding_;
};

}  // namespace backspan::observatory
