// Finished jobs waiting to be added to the aggregates (rollups, counters,
// sources). Under load a writer commits them as one row of the
// aggregate_deltas table in the jobs' own transaction, and any replica adds
// a second's worth at once later (pg_aggregates.cc): a crash between the two
// loses nothing, and the rollups are written once per key per second
// instead of once per job.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "observatory/store/records.h"
#include "util/status.h"

namespace backspan::observatory {

struct CountedJob {
  JobRecord job;
  int sign = 1;            // -1: a revised version taken out again
  bool to_source = true;   // a revision's source keeps the version first counted
};

// Every field of the jobs, with the sign and to_source, as text, and back
// (Corruption if damaged). Also what replicas tell each other of the jobs
// they stored (LISTEN/NOTIFY). The text is "B" and each job's binary
// record in base64, separated by commas (docs/observatory.md, "PostgreSQL");
// the JSON array of earlier versions is still read.
std::string EncodeCountedJobs(const std::vector<CountedJob>& jobs);
Result<std::vector<CountedJob>> DecodeCountedJobs(std::string_view text);
// One job's record as EncodeCountedJobs writes it (without the "B"): what
// a NOTIFY payload packs as many of as fit.
std::string EncodeCountedJob(const CountedJob& job);
inline constexpr char kCountedJobsFormat = 'B';

}  // namespace backspan::observatory
