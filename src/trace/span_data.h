// What a finished span is: the data model shared by the tracer, the
// processors and the exporters. It mirrors OTLP's Span message so that
// encoding is a plain copy.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace backspan::trace {

using TraceId = std::array<uint8_t, 16>;
using SpanId = std::array<uint8_t, 8>;

// OTLP AnyValue, limited to what backspan records: scalars and string arrays.
using StringArray = std::vector<std::string>;
using AttributeValue = std::variant<std::string, bool, int64_t, double, StringArray>;
struct Attribute {
  std::string key;
  AttributeValue value;
};
using Attributes = std::vector<Attribute>;

// Sets `key` to `value`, replacing an earlier value of the same key.
void SetAttribute(Attributes& attrs, std::string_view key, AttributeValue value);
// The value of `key`, or nullptr.
const AttributeValue* FindAttribute(const Attributes& attrs, std::string_view key);
// The value as display text: strings as they are, numbers in decimal,
// arrays joined with ", ".
std::string AttributeText(const AttributeValue& v);

struct SpanEvent {
  std::string name;
  int64_t time_ns = 0;
  Attributes attributes;
};

// Values as in OTLP's Span.SpanKind and Status.StatusCode.
enum class SpanKind : int { kInternal = 1, kServer = 2, kClient = 3, kProducer = 4, kConsumer = 5 };
enum class StatusCode : int { kUnset = 0, kOk = 1, kError = 2 };

struct SpanData {
  TraceId trace_id{};
  SpanId span_id{};
  SpanId parent_span_id{};  // all zero for a root span
  std::string trace_state;
  uint8_t trace_flags = 1;  // W3C flags; 1 = sampled
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  int64_t start_ns = 0, end_ns = 0;
  Attributes attributes;
  std::vector<SpanEvent> events;
  uint32_t dropped_events = 0;
  StatusCode status = StatusCode::kUnset;
  std::string status_message;

  bool is_root() const { return parent_span_id == SpanId{}; }
};

// What every span of a process shares: service name, host, job tags.
struct Resource {
  Attributes attributes;
};

// The identity of a span that another span can name as its parent: from
// TRACEPARENT, or the current span for a child process.
struct SpanContext {
  TraceId trace_id{};
  SpanId span_id{};
  uint8_t trace_flags = 1;
  std::string trace_state;

  bool valid() const { return trace_id != TraceId{} && span_id != SpanId{}; }
  // The W3C traceparent header value, "00-<trace id>-<span id>-<flags>".
  std::string ToTraceparent() const;
  // Parses a W3C traceparent (and tracestate); nullopt if malformed, as the
  // W3C Trace Context spec asks: all-zero ids and version ff are invalid.
  static std::optional<SpanContext> FromTraceparent(std::string_view traceparent,
                                                    std::string_view tracestate = {});
};

// The raw bytes of an id, as OTLP's protobuf and the stores hold them.
template <size_t N>
std::string IdBytes(const std::array<uint8_t, N>& id) {
  return std::string(reinterpret_cast<const char*>(id.data()), N);
}
// An id from raw bytes; all zero (invalid) if `raw` is not N bytes long.
template <size_t N>
std::array<uint8_t, N> IdFromBytes(std::string_view raw) {
  std::array<uint8_t, N> id{};
  if (raw.size() == N) std::copy(raw.begin(), raw.end(), id.begin());
  return id;
}

std::string ToHex(const TraceId& id);
std::string ToHex(const SpanId& id);
// Parses 32 (trace) or 16 (span) lower- or upper-case hex digits.
std::optional<TraceId> TraceIdFromHex(std::string_view hex);
std::optional<SpanId> SpanIdFromHex(std::string_view hex);

}  // namespace backspan::trace
