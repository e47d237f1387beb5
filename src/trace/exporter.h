// Where finished spans go. As in the OpenTelemetry SDK: a tracer hands each
// ended span to a SpanProcessor; processors batch, redact or store spans and
// pass them on to SpanExporters, which send them somewhere.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "trace/span_data.h"
#include "util/status.h"

namespace backspan::trace {

// Sends batches of spans. Called from one thread at a time.
class SpanExporter {
 public:
  virtual ~SpanExporter() = default;
  // Sends `spans`, which share `resource`, giving up by the monotonic time
  // `deadline_ns`. An error means the spans were not delivered.
  virtual Status Export(const Resource& resource, const std::vector<SpanData>& spans,
                        int64_t deadline_ns) noexcept = 0;
  // Stops the exporter; later Export calls fail.
  virtual void Shutdown() noexcept {}
};

// Receives every span when it ends. OnEnd is called from any thread.
class SpanProcessor {
 public:
  virtual ~SpanProcessor() = default;
  virtual void OnEnd(SpanData span) noexcept = 0;
  // Exports everything pending, giving up by the monotonic time `deadline_ns`.
  virtual Status ForceFlush(int64_t deadline_ns) noexcept = 0;
  // Flushes and stops; later spans are dropped.
  virtual Status Shutdown(int64_t deadline_ns) noexcept = 0;
  // Starts exporting what is pending without waiting, so that several
  // processors can flush at once; ForceFlush or Shutdown then waits.
  virtual void BeginFlush() noexcept {}
};

// Keeps finished spans in memory, so tests can assert on them.
class InMemoryExporter final : public SpanExporter {
 public:
  Status Export(const Resource& resource, const std::vector<SpanData>& spans, int64_t) noexcept override {
    resource_ = resource;
    spans_.insert(spans_.end(), spans.begin(), spans.end());
    return Status::Ok();
  }
  const std::vector<SpanData>& spans() const { return spans_; }
  const Resource& resource() const { return resource_; }

 private:
  Resource resource_;
  std::vector<SpanData> spans_;
};

// Hands each span straight to an exporter (tests, and the local job history,
// which is written once at the end of the job).
class SimpleProcessor final : public SpanProcessor {
 public:
  SimpleProcessor(const Resource* resource, SpanExporter* exporter) : resource_(resource), exporter_(exporter) {}
  void OnEnd(SpanData span) noexcept override;
  Status ForceFlush(int64_t) noexcept override { return Status::Ok(); }
  Status Shutdown(int64_t) noexcept override { return Status::Ok(); }

 private:
  std::mutex mu_;
  const Resource* resource_;
  SpanExporter* exporter_;
};

// Passes each span to several processors, in order.
class MultiProcessor final : public SpanProcessor {
 public:
  void Add(std::unique_ptr<SpanProcessor> p) { processors_.push_back(std::move(p)); }
  void OnEnd(SpanData span) noexcept override;
  Status ForceFlush(int64_t deadline_ns) noexcept override;
  Status Shutdown(int64_t deadline_ns) noexcept override;
  void BeginFlush() noexcept override;

 private:
  std::vector<std::unique_ptr<SpanProcessor>> processors_;
};

}  // namespace backspan::trace
