#include <algorithm>
#include <chrono>
#include <vector>

#include "env/env.h"
#include "trace/batch_processor.h"
#include "trace/exporter.h"

namespace backspan::trace {

void SimpleProcessor::OnEnd(SpanData span) noexcept {
  std::lock_guard<std::mutex> l(mu_);
  (void)exporter_->Export(*resource_, {std::move(span)}, 0);
}

void MultiProcessor::OnEnd(SpanData span) noexcept {
  for (size_t i = 0; i < processors_.size(); i++) {
    if (i + 1 == processors_.size()) processors_[i]->OnEnd(std::move(span));
    else processors_[i]->OnEnd(span);
  }
}

// Calls `fn` on every processor, even after a failure; returns the first error.
template <typename Fn>
static Status ForAll(std::vector<std::unique_ptr<SpanProcessor>>& processors, Fn fn) {
  Status first;
  for (auto& p : processors) {
    Status st = fn(*p);
    if (first.ok()) first = st;
  }
  return first;
}

Status MultiProcessor::ForceFlush(int64_t deadline_ns) noexcept {
  BeginFlush();
  return ForAll(processors_, [&](SpanProcessor& p) { return p.ForceFlush(deadline_ns); });
}

void MultiProcessor::BeginFlush() noexcept {
  for (auto& p : processors_) p->BeginFlush();
}

Status MultiProcessor::Shutdown(int64_t deadline_ns) noexcept {
  // Exports start together, e.g. the OTLP export runs while the history is written.
  BeginFlush();
  return ForAll(processors_, [&](SpanProcessor& p) { return p.Shutdown(deadline_ns); });
}

BatchProcessor::BatchProcessor(const Resource* resource, std::unique_ptr<SpanExporter> exporter, Env* env,
                               BatchOptions options)
    : resource_(resource), exporter_(std::move(exporter)), env_(env), options_(options) {
  worker_ = std::thread([this] { Work(); });
}

BatchProcessor::~BatchProcessor() { (void)Shutdown(env_->MonotonicNanos() + options_.export_timeout_ns); }

void BatchProcessor::OnEnd(SpanData span) noexcept {
  std::lock_guard<std::mutex> l(mu_);
  if (stopping_ || queue_.size() >= options_.max_queue) {
    stats_.dropped++;
    return;
  }
  queue_.push_back(std::move(span));
  if (queue_.size() >= options_.max_batch) wake_.notify_one();
}

void BatchProcessor::Work() {
  std::unique_lock<std::mutex> l(mu_);
  uint64_t flushes_seen = 0;
  for (;;) {
    wake_.wait_for(l, std::chrono::nanoseconds(options_.schedule_delay_ns), [&] {
      return stopping_ || queue_.size() >= options_.max_batch || flush_requests_ != flushes_seen;
    });
    flushes_seen = flush_requests_;
    while (!queue_.empty()) {
      size_t n = std::min(queue_.size(), options_.max_batch);
      std::vector<SpanData> batch(std::make_move_iterator(queue_.begin()),
                                  std::make_move_iterator(queue_.begin() + static_cast<ptrdiff_t>(n)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(n));
      exporting_ = true;
      l.unlock();
      int64_t deadline = std::min(env_->MonotonicNanos() + options_.export_timeout_ns, flush_deadline_ns_);
      Status st = exporter_->Export(*resource_, batch, deadline);
      l.lock();
      exporting_ = false;
      if (st.ok()) {
        stats_.exported += batch.size();
      } else {
        stats_.dropped += batch.size();
        stats_.last_error = st;
      }
      progress_.notify_all();
    }
    progress_.notify_all();
    if (stopping_) return;
  }
}

void BatchProcessor::BeginFlush() noexcept {
  std::lock_guard<std::mutex> l(mu_);
  flush_requests_++;
  wake_.notify_one();
}

Status BatchProcessor::ForceFlush(int64_t deadline_ns) noexcept {
  std::unique_lock<std::mutex> l(mu_);
  if (!worker_.joinable()) return Status::Ok();
  uint64_t dropped_before = stats_.dropped;
  flush_requests_++;
  flush_deadline_ns_ = std::min(flush_deadline_ns_, deadline_ns);
  wake_.notify_one();
  while (!queue_.empty() || exporting_) {
    int64_t left = deadline_ns - env_->MonotonicNanos();
    if (left <= 0) return Status::IOError("span export did not finish in time");
    progress_.wait_for(l, std::chrono::nanoseconds(std::min<int64_t>(left, 50'000'000)));
  }
  if (stats_.dropped != dropped_before) return stats_.last_error;
  return Status::Ok();
}

Status BatchProcessor::Shutdown(int64_t deadline_ns) noexcept {
  Status st = ForceFlush(deadline_ns);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!worker_.joinable()) return st;
    stopping_ = true;
    // Whatever the flush could not send in time is lost.
    stats_.dropped += queue_.size();
    queue_.clear();
  }
  wake_.notify_one();
  worker_.join();
  exporter_->Shutdown();
  return st;
}

BatchStats BatchProcessor::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

}  // namespace backspan::trace
