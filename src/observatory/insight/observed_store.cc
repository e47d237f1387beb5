#include "observatory/insight/observed_store.h"

#include <algorithm>

namespace backspan::observatory::insight {

ObservedStore::ObservedStore(SpanStore* store, InsightEngine* insight) : StoreDecorator(store), insight_(insight) {
  store->OnJobsWrittenElsewhere([insight](std::vector<JobRecord> stored) {
    std::vector<ObservedJob> jobs;
    for (const auto& job : stored)
      if (auto j = InsightEngine::Read(job)) jobs.push_back(std::move(*j));
    insight->Observe(std::move(jobs));
  });
}

Result<WriteOutcome> ObservedStore::Write(IngestBatch batch, const Scope& writer) {
  // What insight reads of the batch's jobs, taken before the batch moves
  // into the store.
  std::vector<ObservedJob> jobs;
  for (const auto& job : batch.jobs)
    if (auto j = InsightEngine::Read(job)) jobs.push_back(std::move(*j));
  auto written = inner()->Write(std::move(batch), writer);
  if (!written.ok() || jobs.empty()) return written;
  if (!written->rejected_spans.empty()) {
    // A job whose span was refused was not stored.
    const auto& refused = written->rejected_spans;
    jobs.erase(std::remove_if(jobs.begin(), jobs.end(),
                              [&](const ObservedJob& j) {
                                return std::find(refused.begin(), refused.end(), j.point.span_id) != refused.end();
                              }),
               jobs.end());
  }
  insight_->Observe(std::move(jobs));
  return written;
}

}  // namespace backspan::observatory::insight
