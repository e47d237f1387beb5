// The tracer: starts spans and hands them, when they end, to a processor.
//
//   Tracer tracer(resource, &processor, env);
//   Span job = tracer.StartSpan("backup");
//   { Span phase = job.StartChild("scan"); ... }   // ends when it goes out of scope
//   job.SetAttribute("backspan.snapshot.id", id);
//
// A default-constructed Span records nothing, so code that traces needs no
// "is tracing on" branches. Span handles are safe to use from any thread.
#pragma once

#include <atomic>
#include <concepts>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "trace/exporter.h"
#include "trace/span_data.h"
#include "util/status.h"

namespace backspan {
class Env;
}

namespace backspan::trace {

// Bounds that keep a job's trace small whatever the job does; documented in
// docs/tracing.md. Spans and events past a bound are counted, not recorded.
struct TracerLimits {
  uint32_t max_spans = 512;             // per tracer, i.e. per job, the root included
  uint32_t max_events_per_span = 128;
};

class Tracer;

class Span {
 public:
  Span() = default;
  Span(Span&&) noexcept = default;
  Span& operator=(Span&& other) noexcept;
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;
  ~Span() { End(); }

  // False for a non-recording span (tracing off, or over the span limit).
  bool recording() const { return state_ != nullptr; }

  // Starts a span whose parent is this one.
  Span StartChild(std::string_view name, SpanKind kind = SpanKind::kInternal) const;

  void SetAttribute(std::string_view key, std::string_view value);
  void SetAttribute(std::string_view key, const char* value) { SetAttribute(key, std::string_view(value)); }
  void SetAttribute(std::string_view key, const std::string& value) { SetAttribute(key, std::string_view(value)); }
  void SetAttribute(std::string_view key, bool value);
  void SetAttribute(std::string_view key, double value);
  void SetAttribute(std::string_view key, StringArray value);
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  void SetAttribute(std::string_view key, T value) {
    SetIntAttribute(key, static_cast<int64_t>(value));
  }

  // Adds an event, stamped now unless `time_ns` is given.
  // Const: it changes the span, not the handle, so a shared const handle may add events.
  void AddEvent(std::string_view name, Attributes attributes = {}, int64_t time_ns = 0) const;
  // Status OK (if no error was recorded).
  void SetOk();
  // Status ERROR with the error's message, `error.type` set to its code
  // name, and an "exception" event as the semantic conventions describe.
  void RecordError(const Status& error);
  // Ends the span and hands it to the processor; later calls do nothing.
  void End();

  // This span's identity, e.g. for TRACEPARENT of a child process; invalid
  // if the span is not recording.
  SpanContext context() const;

 private:
  friend class Tracer;
  struct State;
  explicit Span(std::shared_ptr<State> state) : state_(std::move(state)) {}
  void SetIntAttribute(std::string_view key, int64_t value);
  void Set(std::string_view key, AttributeValue value);

  std::shared_ptr<State> state_;
};

inline const Status& StatusOf(const Status& s) { return s; }
template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}

// Runs fn(span) inside a new child span `name` of `parent` and records the
// error it returns (a Status or a Result<T>) on that span. Returns what fn
// returns. The span ends when this returns.
template <typename Fn>
auto InChildSpan(const Span& parent, std::string_view name, Fn&& fn) {
  Span span = parent.StartChild(name);
  auto result = fn(span);
  span.RecordError(StatusOf(result));
  return result;
}

class Tracer {
 public:
  // Spans end into `processor`; `env` is the clock. Both must outlive every
  // span this tracer starts.
  Tracer(SpanProcessor* processor, Env* env, TracerLimits limits = {});

  // Starts a span; a root span of a new trace unless `parent` is valid.
  Span StartSpan(std::string_view name, const SpanContext& parent = {}, SpanKind kind = SpanKind::kInternal);

  // Spans not recorded because the span limit was reached.
  uint64_t spans_dropped() const { return spans_dropped_; }
  // Copies of the spans started and not yet ended, their end time 0: the
  // snapshots sent to the observatory while a job runs.
  std::vector<SpanData> OpenSpans() const;
  Env* env() const { return env_; }

 private:
  friend class Span;
  Span Start(std::string_view name, const TraceId& trace_id, const SpanId& parent, uint8_t flags,
             const std::string& trace_state, SpanKind kind);
  void Finish(Span::State* state, SpanData data) noexcept;

  SpanProcessor* processor_;
  Env* env_;
  TracerLimits limits_;
  std::atomic<uint32_t> spans_started_{0};
  std::atomic<uint64_t> spans_dropped_{0};
  mutable std::mutex open_mu_;  // taken before a span's own mutex, never after
  std::unordered_set<Span::State*> open_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;
};

}  // namespace backspan::trace
