// OTLP/JSON request bodies read into the protobuf message, so that both
// encodings share one checking path. Internal to the observatory.
#pragma once

#include <string>
#include <string_view>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace backspan::observatory {

// Fills `out` from an OTLP/JSON ExportTraceServiceRequest: lowerCamelCase
// (or original snake_case) field names, hex ids, enums as integers (or their
// names), 64-bit integers as strings or numbers; unknown fields ignored, as
// the specification asks. Returns false with `error` naming the problem.
bool ParseJsonTraceRequest(std::string_view body,
                           opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest* out,
                           std::string* error);

}  // namespace backspan::observatory
