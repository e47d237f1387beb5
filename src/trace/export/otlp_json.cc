// The OTLP/HTTP JSON encoding: the protobuf JSON mapping with OTLP's
// exceptions: trace and span ids as hex, enums as integers, and 64-bit
// integers as decimal strings.
#include <nlohmann/json.hpp>

#include "trace/export/otlp_encoding.h"

namespace backspan::trace {
namespace {

using nlohmann::json;

json ValueJson(const AttributeValue& v) {
  if (auto* s = std::get_if<std::string>(&v)) return {{"stringValue", *s}};
  if (auto* b = std::get_if<bool>(&v)) return {{"boolValue", *b}};
  if (auto* i = std::get_if<int64_t>(&v)) return {{"intValue", std::to_string(*i)}};
  if (auto* d = std::get_if<double>(&v)) return {{"doubleValue", *d}};
  json values = json::array();
  for (const auto& s : std::get<StringArray>(v)) values.push_back({{"stringValue", s}});
  return {{"arrayValue", {{"values", std::move(values)}}}};
}

json AttributesJson(const Attributes& attrs) {
  json out = json::array();
  for (const auto& a : attrs) out.push_back({{"key", a.key}, {"value", ValueJson(a.value)}});
  return out;
}

}  // namespace

std::string EncodeOtlpJson(const Resource& resource, const std::string& scope_version,
                           const std::vector<SpanData>& spans) {
  json spans_json = json::array();
  for (const SpanData& d : spans) {
    json s = {{"traceId", ToHex(d.trace_id)},
              {"spanId", ToHex(d.span_id)},
              {"name", d.name},
              {"kind", static_cast<int>(d.kind)},
              {"startTimeUnixNano", std::to_string(d.start_ns)},
              {"endTimeUnixNano", std::to_string(d.end_ns)},
              {"attributes", AttributesJson(d.attributes)},
              {"flags", d.trace_flags}};
    if (!d.is_root()) s["parentSpanId"] = ToHex(d.parent_span_id);
    if (!d.trace_state.empty()) s["traceState"] = d.trace_state;
    json events = json::array();
    for (const SpanEvent& e : d.events) {
      events.push_back({{"timeUnixNano", std::to_string(e.time_ns)},
                        {"name", e.name},
                        {"attributes", AttributesJson(e.attributes)}});
    }
    s["events"] = std::move(events);
    if (d.dropped_events) s["droppedEventsCount"] = d.dropped_events;
    json status = json::object();
    if (d.status != StatusCode::kUnset) status["code"] = static_cast<int>(d.status);
    if (!d.status_message.empty()) status["message"] = d.status_message;
    s["status"] = std::move(status);
    spans_json.push_back(std::move(s));
  }
  json req = {{"resourceSpans",
               json::array({{{"resource", {{"attributes", AttributesJson(resource.attributes)}}},
                             {"scopeSpans", json::array({{{"scope", {{"name", kScopeName}, {"version", scope_version}}},
                                                          {"spans", std::move(spans_json)}}})}}})}};
  return req.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<ExportResponse> DecodeOtlpJsonResponse(const std::string& body) {
  ExportResponse out;
  if (body.empty()) return out;
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption("the collector's response is not JSON");
  auto ps = j.find("partialSuccess");
  if (ps == j.end() || !ps->is_object()) return out;
  if (auto r = ps->find("rejectedSpans"); r != ps->end()) {
    if (r->is_string()) out.rejected_spans = std::strtoll(r->get<std::string>().c_str(), nullptr, 10);
    else if (r->is_number_integer()) out.rejected_spans = r->get<int64_t>();
  }
  if (auto m = ps->find("errorMessage"); m != ps->end() && m->is_string()) out.error_message = m->get<std::string>();
  return out;
}

}  // namespace backspan::trace
