// The store as the server writes through it: every write goes on to the
// real store, and the jobs it stored go to insight afterwards, so insight
// sees exactly what was stored, whichever endpoint wrote it; so do the jobs
// other replicas sharing the store wrote.
#pragma once

#include "observatory/insight/insight_engine.h"
#include "observatory/store/store_decorator.h"

namespace backspan::observatory::insight {

class ObservedStore final : public StoreDecorator {
 public:
  ObservedStore(SpanStore* store, InsightEngine* insight);

  Result<WriteOutcome> Write(IngestBatch batch, const Scope& writer) override;

 private:
  InsightEngine* insight_;
};

}  // namespace backspan::observatory::insight
