#include "trace/export/in_progress_reporter.h"

#include <chrono>

#include "env/env.h"

namespace backspan::trace {

std::string InProgressUrl(const std::string& traces_url) {
  const size_t q = traces_url.find_first_of("?#");
  if (q == std::string::npos) return traces_url + "/in-progress";
  return traces_url.substr(0, q) + "/in-progress" + traces_url.substr(q);
}

InProgressReporter::InProgressReporter(const Tracer* tracer, const SpanId& job_span, const Resource* resource,
                                       Redactor redactor, std::unique_ptr<SpanExporter> exporter, Env* env,
                                       InProgressOptions options)
    : tracer_(tracer),
      job_span_(job_span),
      resource_(resource),
      redactor_(std::move(redactor)),
      exporter_(std::move(exporter)),
      env_(env),
      options_(options) {
  thread_ = std::thread([this] { Loop(); });
}

InProgressReporter::~InProgressReporter() { Stop(); }

void InProgressReporter::SetProgressSource(ProgressSource source) {
  std::lock_guard<std::mutex> l(source_mu_);
  source_ = std::move(source);
}

void InProgressReporter::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
  }
  wake_.notify_all();
  // A request in flight gives up at its next retry instead of at its deadline.
  exporter_->Shutdown();
  if (thread_.joinable()) thread_.join();
}

uint64_t InProgressReporter::snapshots_sent() const {
  std::lock_guard<std::mutex> l(mu_);
  return sent_;
}

void InProgressReporter::Loop() {
  int64_t wait_ns = options_.first_delay_ns;
  for (;;) {
    {
      std::unique_lock<std::mutex> l(mu_);
      if (wake_.wait_for(l, std::chrono::nanoseconds(wait_ns), [this] { return stop_; })) return;
    }
    Status st = SendSnapshot();
    // The endpoint does not know the extension (a collector, Jaeger, ...):
    // its finished spans still arrive through the normal export.
    if (st.code() == ErrorCode::kNotFound || st.code() == ErrorCode::kUnsupported) return;
    if (st.ok()) {
      std::lock_guard<std::mutex> l(mu_);
      sent_++;
    }
    // Other failures (the server is down for a moment) are retried at the next tick.
    wait_ns = options_.interval_ns;
  }
}

Status InProgressReporter::SendSnapshot() {
  std::vector<SpanData> spans = tracer_->OpenSpans();
  if (spans.empty()) return Status::Ok();
  {
    std::lock_guard<std::mutex> l(source_mu_);
    if (source_)
      for (SpanData& s : spans)
        if (s.span_id == job_span_) source_(s.attributes);
  }
  for (SpanData& s : spans) redactor_.Apply(s);
  return exporter_->Export(*resource_, spans, env_->MonotonicNanos() + options_.timeout_ns);
}

}  // namespace backspan::trace
