// A backup source's state (SourceState, span_store.h) as every store keeps
// it: what a finished job adds to it, and the JSON form it is stored in.
#pragma once

#include <string>

#include "observatory/store/records.h"
#include "observatory/store/span_store.h"

namespace backspan::observatory {

// The state of a source first seen with `job` (nothing counted yet).
SourceState NewSource(const JobRecord& job);

// Counts finished `job` in its source's state: totals, the duration
// histogram, the newest job and the recent successes. Jobs may come out of
// order: the newest start decides what is "last".
void AddJobToSource(SourceState& s, const JobRecord& job);

// The stored form (the `state` column of the sources table) and back.
std::string SourceToJson(const SourceState& s);
SourceState SourceFromJson(const std::string& text);

}  // namespace backspan::observatory
