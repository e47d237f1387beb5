#include "trace/job_summary.h"

#include "trace/semconv.h"
#include "util/time_format.h"

namespace backspan::trace {

const AttributeValue* SpanJobAttributes::Find(std::string_view key) const {
  const AttributeValue* v = FindAttribute(span_, key);
  return v ? v : FindAttribute(resource_, key);
}

std::string SpanJobAttributes::Text(std::string_view key) const {
  const AttributeValue* v = Find(key);
  if (!v) return "";
  if (auto* s = std::get_if<std::string>(v)) return *s;
  if (auto* i = std::get_if<int64_t>(v)) return std::to_string(*i);
  return "";
}

int64_t SpanJobAttributes::Int(std::string_view key) const {
  const AttributeValue* v = Find(key);
  if (!v) return 0;
  if (auto* i = std::get_if<int64_t>(v)) return *i;
  if (auto* d = std::get_if<double>(v)) return static_cast<int64_t>(*d);
  return 0;
}

namespace {

const char* StatusOf(const RootSpan& root, const JobAttributes& a) {
  if (root.in_progress) return semconv::kJobStatusRunning;
  const int64_t exit_code = a.Int(semconv::kProcessExitCode);
  if (exit_code == 130 || a.Text(semconv::kErrorType) == semconv::kJobStatusInterrupted)
    return semconv::kJobStatusInterrupted;
  if (exit_code == 3 || a.Text(semconv::kJobStatus) == semconv::kJobStatusPartial) return semconv::kJobStatusPartial;
  return root.error ? semconv::kJobStatusFailed : semconv::kJobStatusOk;
}

}  // namespace

JobSummary SummarizeJob(const RootSpan& root) {
  static const Attributes kEmpty;
  static const SpanJobAttributes kNone(kEmpty, kEmpty);
  const JobAttributes& a = root.attributes ? *root.attributes : kNone;
  JobSummary job;
  job.kind = a.Text(semconv::kJobKind);
  if (job.kind.empty()) job.kind = std::string(root.name);
  job.status = StatusOf(root, a);
  job.start_ns = root.start_ns;
  job.end_ns = root.end_ns < root.start_ns ? root.start_ns : root.end_ns;
  job.host = a.Text(semconv::kHostName);
  job.service = a.Text(semconv::kServiceName);
  job.resource_group = a.Text(semconv::kAzureResourceGroupName);
  job.repository = a.Text(semconv::kRepository);
  job.snapshot_id = a.Text(semconv::kSnapshotId);
  job.error_type = a.Text(semconv::kErrorType);
  if (root.error) job.error_message = std::string(root.status_message);
  job.bytes_read = a.Int(semconv::kBytesRead);
  job.bytes_added = a.Int(semconv::kBytesAdded);
  job.bytes_stored = a.Int(semconv::kBytesStored);
  job.bytes_total = a.Int(semconv::kBytesTotal);
  job.files_total = a.Int(semconv::kFilesTotal);
  job.files_changed = a.Int(semconv::kFilesNew) + a.Int(semconv::kFilesChanged);
  if (auto deadline = ParseRfc3339(a.Text(semconv::kJobDeadline))) job.deadline_ns = *deadline;
  return job;
}

}  // namespace backspan::trace
