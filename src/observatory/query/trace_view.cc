#include "observatory/query/trace_view.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "opentelemetry/proto/trace/v1/trace.pb.h"
#include "util/encoding.h"
#include "util/hex.h"

namespace backspan::observatory {
namespace {

using nlohmann::json;
namespace common = opentelemetry::proto::common::v1;
namespace tracepb = opentelemetry::proto::trace::v1;
using KeyValues = google::protobuf::RepeatedPtrField<common::KeyValue>;

std::string Hex(const std::string& raw) {
  return HexEncode(ByteView(reinterpret_cast<const uint8_t*>(raw.data()), raw.size()));
}

json ValueJson(const common::AnyValue& v, int depth = 0) {
  if (depth > 16) return nullptr;
  switch (v.value_case()) {
    case common::AnyValue::kStringValue: return v.string_value();
    case common::AnyValue::kBoolValue: return v.bool_value();
    case common::AnyValue::kIntValue: return v.int_value();
    case common::AnyValue::kDoubleValue: return v.double_value();
    case common::AnyValue::kArrayValue: {
      json a = json::array();
      for (const auto& item : v.array_value().values()) a.push_back(ValueJson(item, depth + 1));
      return a;
    }
    case common::AnyValue::kKvlistValue: {
      json o = json::object();
      for (const auto& kv : v.kvlist_value().values()) o[kv.key()] = ValueJson(kv.value(), depth + 1);
      return o;
    }
    case common::AnyValue::kBytesValue:
      return Base64Encode(ByteView(reinterpret_cast<const uint8_t*>(v.bytes_value().data()), v.bytes_value().size()));
    default: return nullptr;
  }
}

json AttrsJson(const KeyValues& kvs) {
  json o = json::object();
  for (const auto& kv : kvs) o[kv.key()] = ValueJson(kv.value());
  return o;
}

const char* KindName(int k) {
  static const char* const kNames[] = {"UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"};
  return k >= 0 && k < 6 ? kNames[k] : "UNSPECIFIED";
}

const char* StatusName(int c) {
  static const char* const kNames[] = {"UNSET", "OK", "ERROR"};
  return c >= 0 && c < 3 ? kNames[c] : "UNSET";
}

json SpanJson(const tracepb::Span& s, const tracepb::ResourceSpans& rs, const tracepb::ScopeSpans& ss, bool in_progress) {
  json events = json::array();
  for (const auto& e : s.events())
    events.push_back({{"name", e.name()},
                      {"time_unix_nano", std::to_string(e.time_unix_nano())},
                      {"attributes", AttrsJson(e.attributes())}});
  json links = json::array();
  for (const auto& l : s.links())
    links.push_back({{"trace_id", Hex(l.trace_id())}, {"span_id", Hex(l.span_id())}, {"attributes", AttrsJson(l.attributes())}});
  const uint64_t end = s.end_time_unix_nano();
  json out = {{"trace_id", Hex(s.trace_id())},
              {"span_id", Hex(s.span_id())},
              {"parent_span_id", Hex(s.parent_span_id())},
              {"name", s.name()},
              {"kind", KindName(s.kind())},
              {"start_time_unix_nano", std::to_string(s.start_time_unix_nano())},
              {"end_time_unix_nano", std::to_string(end)},
              {"duration_ms", end >= s.start_time_unix_nano() ? static_cast<double>(end - s.start_time_unix_nano()) / 1e6 : 0.0},
              {"status", {{"code", StatusName(s.status().code())}, {"message", s.status().message()}}},
              {"attributes", AttrsJson(s.attributes())},
              {"events", std::move(events)},
              {"links", std::move(links)},
              {"resource", AttrsJson(rs.resource().attributes())},
              {"scope", {{"name", ss.scope().name()}, {"version", ss.scope().version()}}},
              {"in_progress", in_progress}};
  if (!s.trace_state().empty()) out["trace_state"] = s.trace_state();
  if (s.dropped_attributes_count()) out["dropped_attributes_count"] = s.dropped_attributes_count();
  if (s.dropped_events_count()) out["dropped_events_count"] = s.dropped_events_count();
  if (s.dropped_links_count()) out["dropped_links_count"] = s.dropped_links_count();
  return out;
}

}  // namespace

std::string RenderTraceJson(const std::string& trace_id_hex, const StoredTrace& trace,
                            const std::vector<AddedEvent>& added) {
  std::vector<std::pair<uint64_t, json>> spans;
  std::set<std::string> finished_ids;
  auto add = [&](const std::string& body, bool in_progress) {
    tracepb::ResourceSpans rs;
    if (!rs.ParseFromString(body)) return;
    for (const auto& ss : rs.scope_spans())
      for (const auto& s : ss.spans()) {
        if (in_progress && finished_ids.count(s.span_id())) continue;
        if (!in_progress && !finished_ids.insert(s.span_id()).second) continue;  // a duplicate, or an older version
        spans.emplace_back(s.start_time_unix_nano(), SpanJson(s, rs, ss, in_progress));
      }
  };
  // Newest first: a span stored again (a revision, e.g. a resolved alert)
  // shows as last stored.
  for (auto it = trace.finished.rbegin(); it != trace.finished.rend(); ++it) add(*it, false);
  for (const auto& body : trace.live) add(body, true);
  std::stable_sort(spans.begin(), spans.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const AddedEvent& e : added)
    for (auto& [t, s] : spans)
      if (s["span_id"] == e.span_id_hex && !s["in_progress"].get<bool>()) {
        json attributes = json::object();
        for (const auto& [k, v] : e.text) attributes[k] = v;
        for (const auto& [k, v] : e.numbers) attributes[k] = v;
        s["events"].push_back(
            {{"name", e.name}, {"time_unix_nano", std::to_string(e.time_ns)}, {"attributes", std::move(attributes)}});
      }
  json out = {{"trace_id", trace_id_hex}, {"spans", json::array()}};
  for (auto& [t, s] : spans) out["spans"].push_back(std::move(s));
  if (trace.hidden) out["hidden_spans"] = trace.hidden;
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace backspan::observatory
