#include "observatory/ingest/otlp_json_request.h"

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "util/bounded_json.h"
#include "util/encoding.h"
#include "util/hex.h"

namespace backspan::observatory {
namespace {

using nlohmann::json;
namespace common = opentelemetry::proto::common::v1;
namespace tracepb = opentelemetry::proto::trace::v1;

// A malformed field: caught once at the top, so the walk stays readable.
struct JsonError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The member `camel` (or its proto name `snake`), or nullptr.
const json* Field(const json& obj, const char* camel, const char* snake = nullptr) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(camel);
  if (it == obj.end() && snake) it = obj.find(snake);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

const json& Array(const json* v, const char* what) {
  static const json kEmpty = json::array();
  if (!v) return kEmpty;
  if (!v->is_array()) throw JsonError(std::string(what) + " must be an array");
  return *v;
}

std::string String(const json* v, const char* what) {
  if (!v) return "";
  if (!v->is_string()) throw JsonError(std::string(what) + " must be a string");
  return v->get<std::string>();
}

// 64-bit integers: decimal strings per the OTLP JSON mapping, numbers tolerated.
int64_t Int64(const json* v, const char* what) {
  if (!v) return 0;
  if (v->is_number_integer()) return v->get<int64_t>();
  if (v->is_number_unsigned()) return static_cast<int64_t>(v->get<uint64_t>());
  if (v->is_string()) {
    const std::string s = v->get<std::string>();
    char* end = nullptr;
    errno = 0;
    long long n = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || errno == ERANGE) {
      // Timestamps are fixed64: accept the unsigned range too.
      errno = 0;
      unsigned long long u = std::strtoull(s.c_str(), &end, 10);
      if (s.empty() || *end != '\0' || errno == ERANGE || s[0] == '-')
        throw JsonError(std::string(what) + " is not an integer: \"" + s.substr(0, 40) + "\"");
      return static_cast<int64_t>(u);
    }
    return n;
  }
  throw JsonError(std::string(what) + " must be an integer or a decimal string");
}

// Enums are integers in OTLP/JSON; names are accepted as protobuf's JSON
// mapping allows them.
int Enum(const json* v, const char* what, std::initializer_list<const char*> names) {
  if (!v) return 0;
  if (v->is_number_integer()) return v->get<int>();
  if (v->is_string()) {
    int i = 0;
    for (const char* n : names) {
      if (v->get<std::string>() == n) return i;
      ++i;
    }
  }
  throw JsonError(std::string(what) + " is not a valid enum value");
}

// Ids are hex in OTLP/JSON. A malformed one becomes an empty id, which the
// span checks reject with a message naming the field.
std::string Id(const json* v, const char* what) {
  std::string hex = String(v, what);
  if (hex.empty()) return "";
  auto raw = HexDecode(hex);
  if (!raw) return std::string("\x01", 1);  // wrong length: rejected as invalid
  return std::string(raw->begin(), raw->end());
}

void FillValue(const json& v, common::AnyValue* out, int depth);

void FillAttributes(const json* list, google::protobuf::RepeatedPtrField<common::KeyValue>* out, int depth) {
  for (const json& kv : Array(list, "attributes")) {
    common::KeyValue* p = out->Add();
    p->set_key(String(Field(kv, "key"), "attribute key"));
    if (const json* v = Field(kv, "value")) FillValue(*v, p->mutable_value(), depth + 1);
  }
}

void FillValue(const json& v, common::AnyValue* out, int depth) {
  if (depth > 16) throw JsonError("attribute values nest too deeply");
  if (!v.is_object()) throw JsonError("an attribute value must be an object such as {\"stringValue\": …}");
  if (const json* s = Field(v, "stringValue", "string_value")) out->set_string_value(String(s, "stringValue"));
  else if (const json* b = Field(v, "boolValue", "bool_value")) {
    if (!b->is_boolean()) throw JsonError("boolValue must be true or false");
    out->set_bool_value(b->get<bool>());
  } else if (const json* i = Field(v, "intValue", "int_value")) out->set_int_value(Int64(i, "intValue"));
  else if (const json* d = Field(v, "doubleValue", "double_value")) {
    if (!d->is_number()) throw JsonError("doubleValue must be a number");
    out->set_double_value(d->get<double>());
  } else if (const json* a = Field(v, "arrayValue", "array_value")) {
    for (const json& item : Array(Field(*a, "values"), "arrayValue.values"))
      FillValue(item, out->mutable_array_value()->add_values(), depth + 1);
  } else if (const json* kvl = Field(v, "kvlistValue", "kvlist_value")) {
    FillAttributes(Field(*kvl, "values"), out->mutable_kvlist_value()->mutable_values(), depth + 1);
  } else if (const json* by = Field(v, "bytesValue", "bytes_value")) {
    auto raw = Base64Decode(String(by, "bytesValue"));
    if (!raw) throw JsonError("bytesValue is not base64");
    out->set_bytes_value(std::string(raw->begin(), raw->end()));
  }
}

void FillSpan(const json& s, tracepb::Span* out) {
  out->set_trace_id(Id(Field(s, "traceId", "trace_id"), "traceId"));
  out->set_span_id(Id(Field(s, "spanId", "span_id"), "spanId"));
  out->set_parent_span_id(Id(Field(s, "parentSpanId", "parent_span_id"), "parentSpanId"));
  out->set_trace_state(String(Field(s, "traceState", "trace_state"), "traceState"));
  out->set_flags(static_cast<uint32_t>(Int64(Field(s, "flags"), "flags")));
  out->set_name(String(Field(s, "name"), "name"));
  out->set_kind(static_cast<tracepb::Span::SpanKind>(
      Enum(Field(s, "kind"), "kind",
           {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT",
            "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"})));
  out->set_start_time_unix_nano(static_cast<uint64_t>(Int64(Field(s, "startTimeUnixNano", "start_time_unix_nano"), "startTimeUnixNano")));
  out->set_end_time_unix_nano(static_cast<uint64_t>(Int64(Field(s, "endTimeUnixNano", "end_time_unix_nano"), "endTimeUnixNano")));
  FillAttributes(Field(s, "attributes"), out->mutable_attributes(), 0);
  out->set_dropped_attributes_count(static_cast<uint32_t>(Int64(Field(s, "droppedAttributesCount", "dropped_attributes_count"), "droppedAttributesCount")));
  for (const json& e : Array(Field(s, "events"), "events")) {
    tracepb::Span::Event* pe = out->add_events();
    pe->set_time_unix_nano(static_cast<uint64_t>(Int64(Field(e, "timeUnixNano", "time_unix_nano"), "timeUnixNano")));
    pe->set_name(String(Field(e, "name"), "event name"));
    FillAttributes(Field(e, "attributes"), pe->mutable_attributes(), 0);
    pe->set_dropped_attributes_count(static_cast<uint32_t>(Int64(Field(e, "droppedAttributesCount", "dropped_attributes_count"), "droppedAttributesCount")));
  }
  out->set_dropped_events_count(static_cast<uint32_t>(Int64(Field(s, "droppedEventsCount", "dropped_events_count"), "droppedEventsCount")));
  for (const json& l : Array(Field(s, "links"), "links")) {
    tracepb::Span::Link* pl = out->add_links();
    pl->set_trace_id(Id(Field(l, "traceId", "trace_id"), "link traceId"));
    pl->set_span_id(Id(Field(l, "spanId", "span_id"), "link spanId"));
    pl->set_trace_state(String(Field(l, "traceState", "trace_state"), "link traceState"));
    FillAttributes(Field(l, "attributes"), pl->mutable_attributes(), 0);
    pl->set_flags(static_cast<uint32_t>(Int64(Field(l, "flags"), "link flags")));
  }
  out->set_dropped_links_count(static_cast<uint32_t>(Int64(Field(s, "droppedLinksCount", "dropped_links_count"), "droppedLinksCount")));
  if (const json* st = Field(s, "status")) {
    out->mutable_status()->set_message(String(Field(*st, "message"), "status.message"));
    out->mutable_status()->set_code(static_cast<tracepb::Status::StatusCode>(
        Enum(Field(*st, "code"), "status.code", {"STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"})));
  }
}

}  // namespace

bool ParseJsonTraceRequest(std::string_view body,
                           opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest* out,
                           std::string* error) {
  std::string why;
  json j = ParseBoundedJson(body, {}, &why);
  if (j.is_discarded()) {
    *error = why.empty() ? "the body is not valid JSON" : why;
    return false;
  }
  if (!j.is_object()) {
    *error = "the body must be a JSON object (an ExportTraceServiceRequest)";
    return false;
  }
  try {
    for (const json& rs : Array(Field(j, "resourceSpans", "resource_spans"), "resourceSpans")) {
      tracepb::ResourceSpans* prs = out->add_resource_spans();
      if (const json* res = Field(rs, "resource")) {
        FillAttributes(Field(*res, "attributes"), prs->mutable_resource()->mutable_attributes(), 0);
        prs->mutable_resource()->set_dropped_attributes_count(
            static_cast<uint32_t>(Int64(Field(*res, "droppedAttributesCount", "dropped_attributes_count"), "droppedAttributesCount")));
      }
      prs->set_schema_url(String(Field(rs, "schemaUrl", "schema_url"), "schemaUrl"));
      for (const json& ss : Array(Field(rs, "scopeSpans", "scope_spans"), "scopeSpans")) {
        tracepb::ScopeSpans* pss = prs->add_scope_spans();
        if (const json* scope = Field(ss, "scope")) {
          pss->mutable_scope()->set_name(String(Field(*scope, "name"), "scope.name"));
          pss->mutable_scope()->set_version(String(Field(*scope, "version"), "scope.version"));
          FillAttributes(Field(*scope, "attributes"), pss->mutable_scope()->mutable_attributes(), 0);
        }
        pss->set_schema_url(String(Field(ss, "schemaUrl", "schema_url"), "schemaUrl"));
        for (const json& s : Array(Field(ss, "spans"), "spans")) FillSpan(s, pss->add_spans());
      }
    }
  } catch (const JsonError& e) {
    *error = e.what();
    return false;
  } catch (const nlohmann::json::exception& e) {
    *error = std::string("unexpected JSON: ") + e.what();
    return false;
  }
  return true;
}

}  // namespace backspan::observatory
