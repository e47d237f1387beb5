// What insight reads of a job: its times, outcome and numbers, and the few
// attributes an explanation may name (docs/insight.md, "What it reads").
// Nothing else of a job reaches the detector or the forecasts: no paths,
// messages or other attributes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "observatory/store/records.h"

namespace backspan::observatory::insight {

enum class Outcome : uint8_t { kSuccess, kPartial, kFailed, kMissed, kOther };

struct JobPoint {
  int64_t start_ns = 0, end_ns = 0, deadline_ns = 0;
  int64_t bytes_added = 0, bytes_total = 0, bytes_read = 0, bytes_stored = 0;
  int64_t files_total = 0, files_changed = 0;
  trace::TraceId trace_id{};
  trace::SpanId span_id{};
  Outcome outcome = Outcome::kOther;
  uint32_t attributes = 0;  // an index into the engine's interned ExplainedAttributes

  double DurationSeconds() const { return static_cast<double>(end_ns - start_ns) / 1e9; }
  bool Failed() const { return outcome == Outcome::kFailed || outcome == Outcome::kPartial || outcome == Outcome::kMissed; }
  // Orders jobs as insight judges them: by start, then span id.
  bool operator<(const JobPoint& o) const { return start_ns != o.start_ns ? start_ns < o.start_ns : span_id < o.span_id; }
};

// The attributes an explanation may name when they change: where the job ran
// and wrote, and with what. (key, value), sorted by key.
using ExplainedAttributes = std::vector<Tag>;
inline constexpr const char* kExplainedAttributeKeys[] = {
    "host.name", "service.name", "service.version", "backspan.repository", "backspan.wrap.tool",
    "backspan.compression", "server.address"};

// The point of a finished job of a source (a backup or a missed run); the
// job's explained attributes in `attributes`.
JobPoint PointOf(const JobRecord& job, ExplainedAttributes* attributes);

// Whether insight reads this job at all: a finished backup or missed run of
// a source.
bool IsInsightJob(const JobRecord& job);

}  // namespace backspan::observatory::insight
