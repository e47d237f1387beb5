#include "trace/tracer.h"

#include <algorithm>

#include "env/env.h"
#include "trace/semconv.h"

namespace backspan::trace {

struct Span::State {
  Tracer* tracer;
  std::mutex mu;
  SpanData data;
  bool ended = false;
};

Span& Span::operator=(Span&& other) noexcept {
  if (this != &other) {
    End();
    state_ = std::move(other.state_);
  }
  return *this;
}

Span Span::StartChild(std::string_view name, SpanKind kind) const {
  if (!state_) return Span();
  TraceId trace;
  SpanId parent;
  uint8_t flags;
  std::string trace_state;
  {
    std::lock_guard<std::mutex> l(state_->mu);
    trace = state_->data.trace_id;
    parent = state_->data.span_id;
    flags = state_->data.trace_flags;
    trace_state = state_->data.trace_state;
  }
  return state_->tracer->Start(name, trace, parent, flags, trace_state, kind);
}

void Span::Set(std::string_view key, AttributeValue value) {
  if (!state_) return;
  std::lock_guard<std::mutex> l(state_->mu);
  if (!state_->ended) trace::SetAttribute(state_->data.attributes, key, std::move(value));
}

void Span::SetAttribute(std::string_view key, std::string_view value) { Set(key, std::string(value)); }
void Span::SetAttribute(std::string_view key, bool value) { Set(key, value); }
void Span::SetAttribute(std::string_view key, double value) { Set(key, value); }
void Span::SetAttribute(std::string_view key, StringArray value) { Set(key, std::move(value)); }
void Span::SetIntAttribute(std::string_view key, int64_t value) { Set(key, value); }

void Span::AddEvent(std::string_view name, Attributes attributes, int64_t time_ns) const {
  if (!state_) return;
  if (time_ns == 0) time_ns = state_->tracer->env_->NowUnixNanos();
  std::lock_guard<std::mutex> l(state_->mu);
  if (state_->ended) return;
  if (state_->data.events.size() >= state_->tracer->limits_.max_events_per_span) {
    state_->data.dropped_events++;
    return;
  }
  state_->data.events.push_back({std::string(name), time_ns, std::move(attributes)});
}

void Span::SetOk() {
  if (!state_) return;
  std::lock_guard<std::mutex> l(state_->mu);
  if (state_->data.status != StatusCode::kError) state_->data.status = StatusCode::kOk;
}

void Span::RecordError(const Status& error) {
  if (!state_ || error.ok()) return;
  AddEvent("exception", {{semconv::kExceptionType, std::string(error.CodeName())},
                         {semconv::kExceptionMessage, error.message()}});
  std::lock_guard<std::mutex> l(state_->mu);
  state_->data.status = StatusCode::kError;
  state_->data.status_message = error.message();
  trace::SetAttribute(state_->data.attributes, semconv::kErrorType, std::string(error.CodeName()));
}

void Span::End() {
  if (!state_) return;
  SpanData done;
  {
    std::lock_guard<std::mutex> l(state_->mu);
    if (state_->ended) return;
    state_->ended = true;
    state_->data.end_ns = std::max(state_->tracer->env_->NowUnixNanos(), state_->data.start_ns);
    done = std::move(state_->data);
    // Keep the identity: context() and StartChild still work after End.
    state_->data.trace_id = done.trace_id;
    state_->data.span_id = done.span_id;
    state_->data.trace_flags = done.trace_flags;
    state_->data.trace_state = done.trace_state;
  }
  state_->tracer->Finish(state_.get(), std::move(done));
}

SpanContext Span::context() const {
  if (!state_) return {};
  std::lock_guard<std::mutex> l(state_->mu);
  return {state_->data.trace_id, state_->data.span_id, state_->data.trace_flags, state_->data.trace_state};
}

void Tracer::Finish(Span::State* state, SpanData data) noexcept {
  {
    std::lock_guard<std::mutex> l(open_mu_);
    open_.erase(state);
  }
  processor_->OnEnd(std::move(data));
}

std::vector<SpanData> Tracer::OpenSpans() const {
  std::vector<SpanData> out;
  std::lock_guard<std::mutex> l(open_mu_);
  out.reserve(open_.size());
  for (Span::State* state : open_) {
    std::lock_guard<std::mutex> sl(state->mu);
    if (state->ended) continue;
    out.push_back(state->data);
    out.back().end_ns = 0;
  }
  return out;
}

Tracer::Tracer(SpanProcessor* processor, Env* env, TracerLimits limits)
    : processor_(processor), env_(env), limits_(limits), rng_(std::random_device{}()) {}

Span Tracer::StartSpan(std::string_view name, const SpanContext& parent, SpanKind kind) {
  if (parent.valid()) return Start(name, parent.trace_id, parent.span_id, parent.trace_flags, parent.trace_state, kind);
  TraceId trace;
  {
    std::lock_guard<std::mutex> l(rng_mu_);
    do {
      uint64_t a = rng_(), b = rng_();
      for (int i = 0; i < 8; i++) {
        trace[i] = static_cast<uint8_t>(a >> (8 * i));
        trace[8 + i] = static_cast<uint8_t>(b >> (8 * i));
      }
    } while (trace == TraceId{});
  }
  return Start(name, trace, SpanId{}, 1, "", kind);
}

Span Tracer::Start(std::string_view name, const TraceId& trace_id, const SpanId& parent, uint8_t flags,
                   const std::string& trace_state, SpanKind kind) {
  if (spans_started_.fetch_add(1) >= limits_.max_spans) {
    spans_dropped_++;
    return Span();
  }
  auto state = std::make_shared<Span::State>();
  state->tracer = this;
  SpanData& d = state->data;
  d.trace_id = trace_id;
  d.parent_span_id = parent;
  d.trace_flags = flags;
  d.trace_state = trace_state;
  d.name = std::string(name);
  d.kind = kind;
  d.start_ns = env_->NowUnixNanos();
  {
    std::lock_guard<std::mutex> l(rng_mu_);
    do {
      uint64_t a = rng_();
      for (int i = 0; i < 8; i++) d.span_id[i] = static_cast<uint8_t>(a >> (8 * i));
    } while (d.span_id == SpanId{});
  }
  {
    std::lock_guard<std::mutex> l(open_mu_);
    open_.insert(state.get());
  }
  return Span(std::move(state));
}

}  // namespace backspan::trace
