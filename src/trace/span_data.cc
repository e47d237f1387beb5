#include "trace/span_data.h"

#include <cstdio>

#include "util/hex.h"

namespace backspan::trace {

void SetAttribute(Attributes& attrs, std::string_view key, AttributeValue value) {
  for (auto& a : attrs) {
    if (a.key == key) {
      a.value = std::move(value);
      return;
    }
  }
  attrs.push_back({std::string(key), std::move(value)});
}

const AttributeValue* FindAttribute(const Attributes& attrs, std::string_view key) {
  for (const auto& a : attrs) {
    if (a.key == key) return &a.value;
  }
  return nullptr;
}

std::string AttributeText(const AttributeValue& v) {
  struct Visitor {
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(const StringArray& a) const {
      std::string out;
      for (const auto& s : a) out += (out.empty() ? "" : ", ") + s;
      return out;
    }
    std::string operator()(double d) const {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6g", d);
      return buf;
    }
  };
  return std::visit(Visitor{}, v);
}

namespace {

template <size_t N>
std::optional<std::array<uint8_t, N>> FromHex(std::string_view hex) {
  if (hex.size() != 2 * N) return std::nullopt;
  auto bytes = HexDecode(hex);
  if (!bytes || bytes->size() != N) return std::nullopt;
  std::array<uint8_t, N> out{};
  for (size_t i = 0; i < N; i++) out[i] = (*bytes)[i];
  return out;
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string ToHex(const TraceId& id) { return HexEncode(ByteView(id.data(), id.size())); }
std::string ToHex(const SpanId& id) { return HexEncode(ByteView(id.data(), id.size())); }
std::optional<TraceId> TraceIdFromHex(std::string_view hex) { return FromHex<16>(hex); }
std::optional<SpanId> SpanIdFromHex(std::string_view hex) { return FromHex<8>(hex); }

std::string SpanContext::ToTraceparent() const {
  char flags[3];
  std::snprintf(flags, sizeof flags, "%02x", trace_flags);
  return "00-" + ToHex(trace_id) + "-" + ToHex(span_id) + "-" + flags;
}

std::optional<SpanContext> SpanContext::FromTraceparent(std::string_view tp, std::string_view tracestate) {
  // version "-" trace-id "-" parent-id "-" flags; later versions may append
  // fields after another '-', which a version-00 parser ignores.
  if (tp.size() < 55 || tp[2] != '-' || tp[35] != '-' || tp[52] != '-') return std::nullopt;
  std::string_view version = tp.substr(0, 2), trace = tp.substr(3, 32), span = tp.substr(36, 16),
                   flags = tp.substr(53, 2);
  if (!IsLowerHex(version) || version == "ff" || !IsLowerHex(trace) || !IsLowerHex(span) || !IsLowerHex(flags))
    return std::nullopt;
  if (version == "00" && tp.size() != 55) return std::nullopt;
  if (version != "00" && tp.size() > 55 && tp[55] != '-') return std::nullopt;
  SpanContext ctx;
  ctx.trace_id = *TraceIdFromHex(trace);
  ctx.span_id = *SpanIdFromHex(span);
  ctx.trace_flags = static_cast<uint8_t>(std::stoi(std::string(flags), nullptr, 16));
  ctx.trace_state = std::string(tracestate);
  if (!ctx.valid()) return std::nullopt;
  return ctx;
}

}  // namespace backspan::trace
