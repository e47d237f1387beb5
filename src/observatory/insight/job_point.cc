#include "observatory/insight/job_point.h"

#include <algorithm>

#include "trace/semconv.h"

namespace backspan::observatory::insight {

bool IsInsightJob(const JobRecord& job) {
  return !job.source_key.empty() && job.status != semconv::kJobStatusRunning;
}

JobPoint PointOf(const JobRecord& job, ExplainedAttributes* attributes) {
  JobPoint p;
  p.start_ns = job.start_ns;
  p.end_ns = job.end_ns < job.start_ns ? job.start_ns : job.end_ns;
  p.deadline_ns = job.deadline_ns;
  p.bytes_added = job.bytes_added;
  p.bytes_total = job.bytes_total;
  p.bytes_read = job.bytes_read;
  p.bytes_stored = job.bytes_stored;
  p.files_total = job.files_total;
  p.files_changed = job.files_changed;
  p.trace_id = job.trace_id;
  p.span_id = job.span_id;
  if (job.kind == semconv::kJobKindMissed) p.outcome = Outcome::kMissed;
  else if (job.status == semconv::kJobStatusOk) p.outcome = Outcome::kSuccess;
  else if (job.status == semconv::kJobStatusPartial) p.outcome = Outcome::kPartial;
  else if (job.status == semconv::kJobStatusFailed) p.outcome = Outcome::kFailed;
  if (attributes) {
    attributes->clear();
    for (const auto& [k, v] : job.tags)
      for (const char* key : kExplainedAttributeKeys)
        if (k == key) attributes->emplace_back(k, v);
    bool has_host = false;
    for (const auto& t : *attributes) has_host = has_host || t.first == semconv::kHostName;
    if (!has_host && !job.host.empty()) {
      attributes->emplace_back(semconv::kHostName, job.host);
      std::sort(attributes->begin(), attributes->end());
    }
  }
  return p;
}

}  // namespace backspan::observatory::insight
