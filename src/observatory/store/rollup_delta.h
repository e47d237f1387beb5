// What finished jobs add to the rollups (per hour and per day, per tag
// value) and to the job counters, summed in memory before a store writes
// them: the SQLite store once a second, the PostgreSQL store with each
// commit.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <utility>

#include "observatory/store/duration_histogram.h"
#include "observatory/store/records.h"

namespace backspan::observatory {

struct RollupKey {
  std::string tag_key, kind, resource_group, tag_value;  // tag "" = "": every job
  int64_t start = 0;  // of the hour or day (UTC)
  bool operator<(const RollupKey& o) const {
    return std::tie(tag_key, start, kind, resource_group, tag_value) <
           std::tie(o.tag_key, o.start, o.kind, o.resource_group, o.tag_value);
  }
};

struct RollupDelta {
  int64_t jobs = 0, ok = 0, partial = 0, failed = 0, bytes_added = 0, bytes_total = 0;
  double duration_sum = 0;
  DurationHistogram durations;
};

using Rollups = std::map<RollupKey, RollupDelta>;

struct AggregateDeltas {
  Rollups hourly, daily;
  std::map<std::pair<std::string, std::string>, int64_t> counts;  // (kind, status) -> jobs

  // Adds `sign` (1 or -1) times finished `job`.
  void Add(const JobRecord& job, int sign);
  bool empty() const { return hourly.empty() && daily.empty() && counts.empty(); }
  void Clear();
};

}  // namespace backspan::observatory
