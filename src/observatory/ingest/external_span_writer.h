// Storing backup events from other systems: each ExternalSpan is merged with
// the version of its span already stored, so a job's end completes its start
// and an alert's resolution closes it; a version that changes nothing (a
// duplicate delivery, a retry) is not stored again. Alerts about a job also
// become events on the job's span, whichever of the two arrives first.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "observatory/ingest/external_spans.h"
#include "observatory/access/scope.h"
#include "util/status.h"

namespace backspan::observatory {

class SpanStore;

struct ExternalOutcome {
  int64_t stored = 0;     // items written (new, or changed)
  int64_t unchanged = 0;  // already stored as they are: duplicates
  // Items not stored, each with why: one that cannot be a span yet (a
  // progress event for a job that never started), or one that would
  // change a stored job outside the caller's scope.
  std::vector<std::string> rejected;
};

class ExternalSpanWriter {
 public:
  explicit ExternalSpanWriter(SpanStore* store) : store_(store) {}

  // Merges and stores `spans` in order, in one commit, for a caller who may
  // write in `writer`; returns once it is durable. Calls are serialized:
  // each merge reads what the last one wrote. An error is the store's
  // (nothing was stored); a bad item is a rejected item.
  Result<ExternalOutcome> Store(const std::vector<ExternalSpan>& spans, const Scope& writer = Scope::All());

  // Adds `attributes` and `event` to a stored alert span (an acknowledgement),
  // if `scope` allows that span. NotFound if there is no such alert, or the
  // scope does not reach it (the caller learns nothing about other scopes).
  Result<ExternalOutcome> AnnotateAlert(const trace::TraceId& trace_id, const trace::SpanId& span_id,
                                        const trace::Attributes& attributes, const trace::SpanEvent& event,
                                        const Scope& scope);

 private:
  SpanStore* store_;
  // Store, with the lock held.
  Result<ExternalOutcome> StoreLocked(const std::vector<ExternalSpan>& spans, const Scope& writer);

  std::mutex mu_;
};

}  // namespace backspan::observatory
