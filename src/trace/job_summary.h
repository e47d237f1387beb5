// A job, read from its root span the same way everywhere: the local job
// history (`backspan jobs`) and the observatory both summarise a root span
// with SummarizeJob, so a job has one status wherever it is shown.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "trace/span_data.h"

namespace backspan::trace {

// A root span's attributes, its resource's beneath them (the span's own win
// when both have a key). The job history reads SpanData; the observatory
// reads OTLP messages without copying them.
class JobAttributes {
 public:
  virtual ~JobAttributes() = default;
  // A string, or an integer in decimal; "" when absent.
  virtual std::string Text(std::string_view key) const = 0;
  // An integer (a double truncated); 0 when absent or not a number.
  virtual int64_t Int(std::string_view key) const = 0;
};

// JobAttributes over a span's attributes and its resource's.
class SpanJobAttributes final : public JobAttributes {
 public:
  SpanJobAttributes(const Attributes& span, const Attributes& resource) : span_(span), resource_(resource) {}
  std::string Text(std::string_view key) const override;
  int64_t Int(std::string_view key) const override;

 private:
  const AttributeValue* Find(std::string_view key) const;
  const Attributes& span_;
  const Attributes& resource_;
};

struct RootSpan {
  std::string_view name;
  int64_t start_ns = 0, end_ns = 0;
  bool error = false;  // the span's status is ERROR
  std::string_view status_message;
  bool in_progress = false;  // a snapshot of a job still running
  const JobAttributes* attributes = nullptr;
};

struct JobSummary {
  std::string kind;    // backspan.job.kind, else the span's name
  std::string status;  // one of semconv::kJobStatus* (never lost: that is judged when read)
  int64_t start_ns = 0, end_ns = 0;  // end never before start
  std::string host, service, resource_group, repository, snapshot_id;
  std::string error_type;     // error.type
  std::string error_message;  // the span's status message, when it failed
  int64_t bytes_read = 0, bytes_added = 0, bytes_stored = 0, bytes_total = 0, files_total = 0;
  int64_t files_changed = 0;  // new and changed files
  int64_t deadline_ns = 0;    // backspan.job.deadline: when the job had to be done (0: none)
};

// The job `root` describes. Its status: running while in progress;
// interrupted for exit code 130 or error.type "interrupted"; partial for
// exit code 3 (some files unreadable) or backspan.job.status "partial" (a
// wrapped tool's warning); failed for any other ERROR status; else ok.
JobSummary SummarizeJob(const RootSpan& root);

}  // namespace backspan::trace
