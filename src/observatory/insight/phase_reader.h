// A job's phases read back from its stored trace: the direct children of
// its root span, as (name, seconds). Only slow jobs and their baselines
// need them, so they are read when asked for, never at ingest.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "observatory/store/span_store.h"

namespace backspan::observatory::insight {

std::vector<std::pair<std::string, double>> ReadPhases(SpanStore* store, const trace::TraceId& trace_id,
                                                       const trace::SpanId& job_span_id);

}  // namespace backspan::observatory::insight
