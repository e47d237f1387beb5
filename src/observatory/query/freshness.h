// Whether a backup source is overdue. A source that has succeeded at least
// three times has a learned schedule: it is overdue once its last success is
// older than twice the median interval between its recent successes (a daily
// backup alarms after 48 h). Until then, the server's --stale-after applies.
#pragma once

#include <cstdint>

#include "observatory/store/span_store.h"

namespace backspan::observatory {

struct Freshness {
  int64_t expected_interval_ns = 0;  // 0 until learned
  int64_t overdue_after_ns = 0;      // the age at which the source is overdue
  int64_t age_ns = 0;                // since the last success (or first sight, if none)
  bool overdue = false;
};

Freshness EvaluateFreshness(const SourceState& s, int64_t now_ns, int64_t default_stale_ns);

}  // namespace backspan::observatory
