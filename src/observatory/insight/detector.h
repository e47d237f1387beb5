// Judges a source's jobs one by one against the jobs of the same source
// that started before each (docs/insight.md): nothing later, so a history
// backfilled at once is judged as it would have been live, and the result
// does not depend on the order jobs arrived in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "observatory/insight/anomaly.h"
#include "observatory/insight/job_point.h"

namespace backspan::observatory::insight {

// Phase durations (name, seconds) of a job, "" names skipped; empty when
// the job has no phases. Read lazily: only slow jobs need them.
using PhaseLookup = std::function<std::vector<std::pair<std::string, double>>(const JobPoint&)>;
// The explained attributes of a job's JobPoint::attributes index.
using AttributeLookup = std::function<const ExplainedAttributes&(uint32_t)>;

// Judges jobs[i] (a success) against jobs[0, i): a duration, throughput,
// change or phase anomaly, or nothing (including while the source has too
// little history to say).
std::optional<Anomaly> JudgeJob(const std::vector<JobPoint>& jobs, size_t i, const PhaseLookup& phases,
                                const AttributeLookup& attributes);

// The bursts of failed, partial and missed runs in jobs (and a failure
// rate that stepped up), one anomaly each, on the run where the burst
// became significant.
std::vector<Anomaly> FailureBursts(const std::vector<JobPoint>& jobs);

// What a scan for failure bursts knows at each run, so that a source whose
// jobs changed from some index on is scanned again from there only: a run
// is judged on the runs before it, never after.
struct BurstScan {
  static constexpr uint32_t kNone = UINT32_MAX;
  std::vector<uint32_t> runs;         // indices of the jobs that ran or were missed
  std::vector<uint32_t> incident_by;  // per run: the run that made it part of an incident, or kNone
  std::vector<uint8_t> armed;         // per run: whether a new burst could be found there
};

// FailureBursts for the jobs from index `from` on, the jobs before it being
// those `scan` saw (as left by the last call): the bursts found on runs of
// jobs[from, end). Updates `scan`.
std::vector<Anomaly> FailureBursts(const std::vector<JobPoint>& jobs, size_t from, BurstScan* scan);

}  // namespace backspan::observatory::insight
