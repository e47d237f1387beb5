#include "observatory/forward/otlp_redaction.h"

#include <utility>

#include "opentelemetry/proto/trace/v1/trace.pb.h"

namespace backspan::observatory {
namespace {

namespace commonpb = opentelemetry::proto::common::v1;
namespace tracepb = opentelemetry::proto::trace::v1;
using KeyValues = google::protobuf::RepeatedPtrField<commonpb::KeyValue>;

// The value as backspan's model holds it; a map or bytes as its
// serialized form, so a rule can still hash it.
trace::AttributeValue FromAny(const commonpb::AnyValue& v) {
  switch (v.value_case()) {
    case commonpb::AnyValue::kStringValue: return v.string_value();
    case commonpb::AnyValue::kBoolValue: return v.bool_value();
    case commonpb::AnyValue::kIntValue: return static_cast<int64_t>(v.int_value());
    case commonpb::AnyValue::kDoubleValue: return v.double_value();
    case commonpb::AnyValue::kArrayValue: {
      trace::StringArray out;
      for (const auto& e : v.array_value().values()) {
        if (e.value_case() != commonpb::AnyValue::kStringValue) return v.SerializeAsString();
        out.push_back(e.string_value());
      }
      return out;
    }
    default: return v.SerializeAsString();
  }
}

void SetAny(const trace::AttributeValue& value, commonpb::AnyValue* v) {
  if (const auto* s = std::get_if<std::string>(&value)) {
    v->set_string_value(*s);
  } else if (const auto* a = std::get_if<trace::StringArray>(&value)) {
    auto* arr = v->mutable_array_value();
    arr->clear_values();
    for (const auto& e : *a) arr->add_values()->set_string_value(e);
  }
  // Booleans and numbers come back changed only as strings (hashed).
}

void Redact(KeyValues* kvs, const trace::Redactor& redactor) {
  if (kvs->empty()) return;
  trace::Attributes attrs;
  attrs.reserve(static_cast<size_t>(kvs->size()));
  for (const auto& kv : *kvs) attrs.push_back({kv.key(), FromAny(kv.value())});
  trace::Attributes before = attrs;
  redactor.Apply(attrs);
  // Apply keeps order and only removes: walk both lists together.
  KeyValues kept;
  size_t j = 0;
  for (int i = 0; i < kvs->size() && j < attrs.size(); ++i) {
    if (kvs->Get(i).key() != attrs[j].key) continue;
    commonpb::KeyValue* kv = kvs->Mutable(i);
    if (attrs[j].value != before[static_cast<size_t>(i)].value) SetAny(attrs[j].value, kv->mutable_value());
    kept.Add(std::move(*kv));
    ++j;
  }
  kvs->Swap(&kept);
}

}  // namespace

Result<std::string> RedactResourceSpans(std::string_view resource_spans, const trace::Redactor& redactor) {
  tracepb::ResourceSpans rs;
  if (!rs.ParseFromArray(resource_spans.data(), static_cast<int>(resource_spans.size())))
    return Status::Corruption("a stored span chunk does not parse as an OTLP ResourceSpans");
  Redact(rs.mutable_resource()->mutable_attributes(), redactor);
  for (auto& ss : *rs.mutable_scope_spans()) {
    for (auto& span : *ss.mutable_spans()) {
      Redact(span.mutable_attributes(), redactor);
      for (auto& e : *span.mutable_events()) Redact(e.mutable_attributes(), redactor);
      for (auto& l : *span.mutable_links()) Redact(l.mutable_attributes(), redactor);
      if (!span.status().message().empty())
        span.mutable_status()->set_message(redactor.ScrubText(span.status().message()));
    }
  }
  return rs.SerializeAsString();
}

}  // namespace backspan::observatory
