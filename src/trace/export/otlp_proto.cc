// The binary protobuf encoding of OTLP, built on protos written from the
// specification (proto/opentelemetry/...). Generated headers stay here.
#include "google/rpc/status.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "trace/export/otlp_encoding.h"

namespace backspan::trace {
namespace {

namespace common = opentelemetry::proto::common::v1;
namespace tracepb = opentelemetry::proto::trace::v1;
namespace collector = opentelemetry::proto::collector::trace::v1;

void Fill(const Attributes& attrs, google::protobuf::RepeatedPtrField<common::KeyValue>* out) {
  out->Reserve(static_cast<int>(attrs.size()));
  for (const auto& a : attrs) {
    common::KeyValue* kv = out->Add();
    kv->set_key(a.key);
    common::AnyValue* v = kv->mutable_value();
    if (auto* s = std::get_if<std::string>(&a.value)) v->set_string_value(*s);
    else if (auto* b = std::get_if<bool>(&a.value)) v->set_bool_value(*b);
    else if (auto* i = std::get_if<int64_t>(&a.value)) v->set_int_value(*i);
    else if (auto* d = std::get_if<double>(&a.value)) v->set_double_value(*d);
    else {
      common::ArrayValue* arr = v->mutable_array_value();
      for (const auto& item : std::get<StringArray>(a.value)) arr->add_values()->set_string_value(item);
    }
  }
}

}  // namespace

std::string EncodeOtlpProtobuf(const Resource& resource, const std::string& scope_version,
                               const std::vector<SpanData>& spans) {
  collector::ExportTraceServiceRequest req;
  tracepb::ResourceSpans* rs = req.add_resource_spans();
  Fill(resource.attributes, rs->mutable_resource()->mutable_attributes());
  tracepb::ScopeSpans* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name(kScopeName);
  ss->mutable_scope()->set_version(scope_version);
  for (const SpanData& d : spans) {
    tracepb::Span* s = ss->add_spans();
    s->set_trace_id(IdBytes(d.trace_id));
    s->set_span_id(IdBytes(d.span_id));
    if (!d.is_root()) s->set_parent_span_id(IdBytes(d.parent_span_id));
    s->set_trace_state(d.trace_state);
    s->set_flags(d.trace_flags);
    s->set_name(d.name);
    s->set_kind(static_cast<tracepb::Span::SpanKind>(d.kind));
    s->set_start_time_unix_nano(static_cast<uint64_t>(d.start_ns));
    s->set_end_time_unix_nano(static_cast<uint64_t>(d.end_ns));
    Fill(d.attributes, s->mutable_attributes());
    for (const SpanEvent& e : d.events) {
      tracepb::Span::Event* pe = s->add_events();
      pe->set_time_unix_nano(static_cast<uint64_t>(e.time_ns));
      pe->set_name(e.name);
      Fill(e.attributes, pe->mutable_attributes());
    }
    s->set_dropped_events_count(d.dropped_events);
    s->mutable_status()->set_code(static_cast<tracepb::Status::StatusCode>(d.status));
    s->mutable_status()->set_message(d.status_message);
  }
  return req.SerializeAsString();
}

Result<ExportResponse> DecodeOtlpProtobufResponse(const std::string& body) {
  collector::ExportTraceServiceResponse resp;
  if (!resp.ParseFromString(body)) return Status::Corruption("the collector's response is not an OTLP protobuf message");
  ExportResponse out;
  out.rejected_spans = resp.partial_success().rejected_spans();
  out.error_message = resp.partial_success().error_message();
  return out;
}

std::string DecodeOtlpProtobufErrorMessage(const std::string& body) {
  google::rpc::Status st;
  if (!st.ParseFromString(body)) return "";
  return st.message();
}

}  // namespace backspan::trace
