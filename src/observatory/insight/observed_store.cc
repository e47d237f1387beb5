#include "observatory/insight/observed_store.h"

#include <algorithm>

namespace backspan::observatory::insight {

Result<WriteOutcome> ObservedStore::Write(IngestBatch batch, const Scope& writer) {
  // Only finished jobs of sources are insight's; keep them aside before the
  // batch moves into the store.
  std::vector<JobRecord> jobs;
  for (const auto& job : batch.jobs)
    if (IsInsightJob(job)) jobs.push_back(job);
  auto written = store_->Write(std::move(batch), writer);
  if (!written.ok() || jobs.empty()) return written;
  if (!written->rejected_spans.empty()) {
    // A job whose span was refused was not stored.
    const auto& refused = written->rejected_spans;
    jobs.erase(std::remove_if(jobs.begin(), jobs.end(),
                              [&](const JobRecord& j) {
                                return std::find(refused.begin(), refused.end(), j.span_id) != refused.end();
                              }),
               jobs.end());
  }
  insight_->Observe(jobs);
  return written;
}

}  // namespace backspan::observatory::insight
