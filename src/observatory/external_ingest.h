// Storing backup events from other systems: each ExternalSpan is merged with
// the version of its span already stored, so a job's end completes its start
// and an alert's resolution closes it; a version that changes nothing (a
// duplicate delivery, a retry) is not stored again. Alerts about a job also
// become events on the job's span, whichever of the two arrives first.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "observatory/external_spans.h"
#include "observatory/scope.h"
#include "util/status.h"

namespace backspan {
class Env;
}

namespace backspan::observatory {

class SpanStore;

struct ExternalOutcome {
  int64_t stored = 0;     // spans written (new, or changed)
  int64_t unchanged = 0;  // already stored as they are: duplicates
};

class ExternalIngest {
 public:
  ExternalIngest(SpanStore* store, Env* env) : store_(store), env_(env) {}

  // Merges and stores `spans` in order, in one commit; returns once it is
  // durable. Calls are serialized: each merge reads what the last one wrote.
  Result<ExternalOutcome> Store(const std::vector<ExternalSpan>& spans);

  // Adds `attributes` and `event` to a stored alert span (an acknowledgement),
  // if `scope` allows that span. NotFound if there is no such alert, or the
  // scope does not reach it (the caller learns nothing about other scopes).
  Result<ExternalOutcome> AnnotateAlert(const trace::TraceId& trace_id, const trace::SpanId& span_id,
                                        const trace::Attributes& attributes, const trace::SpanEvent& event,
                                        const Scope& scope);

 private:
  SpanStore* store_;
  // Store, with the lock held.
  Result<ExternalOutcome> StoreLocked(const std::vector<ExternalSpan>& spans);

  Env* env_;
  std::mutex mu_;
};

}  // namespace backspan::observatory
