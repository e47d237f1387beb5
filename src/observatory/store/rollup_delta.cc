#include "observatory/store/rollup_delta.h"

#include "observatory/store/job_list_sql.h"
#include "trace/semconv.h"

namespace backspan::observatory {

void AggregateDeltas::Add(const JobRecord& job, int sign) {
  const double seconds = static_cast<double>(job.end_ns - job.start_ns) / 1e9;
  auto add = [&](const std::string& key, const std::string& value) {
    for (auto [rollups, period] : {std::pair{&hourly, kHourNs}, std::pair{&daily, kDayNs}}) {
      RollupDelta& r = (*rollups)[RollupKey{key, job.kind, job.resource_group, value, job.start_ns / period * period}];
      r.jobs += sign;
      if (job.status == semconv::kJobStatusOk) r.ok += sign;
      else if (job.status == semconv::kJobStatusPartial) r.partial += sign;
      else r.failed += sign;
      r.duration_sum += sign * seconds;
      r.bytes_added += sign * job.bytes_added;
      r.bytes_total += sign * job.bytes_total;
      r.durations.Add(seconds, sign);
    }
  };
  add("", "");
  for (const auto& [k, v] : job.tags) add(k, v);
  counts[{job.kind, job.status}] += sign;
}

void AggregateDeltas::Clear() {
  hourly.clear();
  daily.clear();
  counts.clear();
}

}  // namespace backspan::observatory
