// Batches spans for an exporter on a background thread, so that exporting
// never slows the job: OnEnd only appends to a bounded queue, and when the
// queue is full (the endpoint is slow or down) spans are dropped and counted.
#pragma once

#include <condition_variable>
#include <climits>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "trace/exporter.h"

namespace backspan {
class Env;
}

namespace backspan::trace {

struct BatchOptions {
  size_t max_queue = 2048;         // as OTEL_BSP_MAX_QUEUE_SIZE
  size_t max_batch = 512;          // as OTEL_BSP_MAX_EXPORT_BATCH_SIZE
  int64_t schedule_delay_ns = 2'000'000'000;  // export at least this often
  int64_t export_timeout_ns = 10'000'000'000;  // per export call, as OTEL_EXPORTER_OTLP_TIMEOUT
};

struct BatchStats {
  uint64_t exported = 0;  // spans the exporter accepted
  uint64_t dropped = 0;   // spans lost: queue full, export failed, or shut down
  Status last_error;      // why the latest failed export failed
};

class BatchProcessor final : public SpanProcessor {
 public:
  // `resource` and `exporter` must outlive the processor; `env` is the clock.
  BatchProcessor(const Resource* resource, std::unique_ptr<SpanExporter> exporter, Env* env,
                 BatchOptions options = {});
  ~BatchProcessor() override;

  void OnEnd(SpanData span) noexcept override;
  // Exports everything queued; kIOError if spans were lost or the deadline passed.
  Status ForceFlush(int64_t deadline_ns) noexcept override;
  Status Shutdown(int64_t deadline_ns) noexcept override;
  void BeginFlush() noexcept override;

  BatchStats stats() const;

 private:
  void Work();

  const Resource* resource_;
  std::unique_ptr<SpanExporter> exporter_;
  Env* env_;
  BatchOptions options_;

  mutable std::mutex mu_;
  std::condition_variable wake_;      // the worker: work to do
  std::condition_variable progress_;  // flushers: the worker finished a batch
  std::deque<SpanData> queue_;
  bool exporting_ = false;
  uint64_t flush_requests_ = 0;
  int64_t flush_deadline_ns_ = INT64_MAX;  // exports during a flush end by then
  bool stopping_ = false;
  BatchStats stats_;
  std::thread worker_;
};

}  // namespace backspan::trace
