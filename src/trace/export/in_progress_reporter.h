// Sends snapshots of a job's open spans while it runs: the in-progress
// extension of `backspan serve` (docs/api.md), which shows a long job as
// running instead of only when it ends. Snapshots go to their own URL, so
// standard OTLP backends, which answer it with 404, keep receiving only
// finished spans; after a 404 the reporter stops for the rest of the job.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "trace/exporter.h"
#include "trace/redactor.h"
#include "trace/tracer.h"

namespace backspan::trace {

struct InProgressOptions {
  int64_t first_delay_ns = 1'000'000'000;  // jobs shorter than this send nothing
  int64_t interval_ns = 15'000'000'000;    // then a snapshot this often
  int64_t timeout_ns = 5'000'000'000;      // per snapshot request
};

// The in-progress URL that belongs to an OTLP traces URL:
// http://h:4318/v1/traces -> http://h:4318/v1/traces/in-progress (a query
// string stays at the end).
std::string InProgressUrl(const std::string& traces_url);

class InProgressReporter {
 public:
  // Figures added to the job span's snapshot, e.g. files and bytes done.
  using ProgressSource = std::function<void(Attributes&)>;

  // Snapshots the open spans of `tracer`, redacts them with `redactor` as the
  // finished spans are, and sends them with `exporter`. `job_span` is the
  // span that progress figures go on. `tracer`, `resource` and `env` must
  // outlive the reporter. Starts its thread at once.
  InProgressReporter(const Tracer* tracer, const SpanId& job_span, const Resource* resource, Redactor redactor,
                     std::unique_ptr<SpanExporter> exporter, Env* env, InProgressOptions options = {});
  ~InProgressReporter();

  // Sets (or, with an empty function, clears) what adds figures to the job
  // span's snapshot. The source is never called after this returns with a new one.
  void SetProgressSource(ProgressSource source);
  // Stops sending; waits for a request in flight. Idempotent. Call it
  // before the spans end, so no snapshot arrives after its finished span.
  void Stop();

  uint64_t snapshots_sent() const;

 private:
  void Loop();
  Status SendSnapshot();

  const Tracer* tracer_;
  const SpanId job_span_;
  const Resource* resource_;
  Redactor redactor_;
  std::unique_ptr<SpanExporter> exporter_;
  Env* env_;
  InProgressOptions options_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  uint64_t sent_ = 0;
  std::mutex source_mu_;  // held while the source runs
  ProgressSource source_;
  std::thread thread_;
};

}  // namespace backspan::trace
