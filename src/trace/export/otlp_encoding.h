// OTLP trace export bodies, in the two OTLP/HTTP encodings: binary protobuf
// (otlp_proto.cc, the only file that sees generated protobuf code) and JSON
// (otlp_json.cc): hex ids, integer enums, 64-bit integers as strings.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "trace/span_data.h"
#include "util/status.h"

namespace backspan::trace {

enum class OtlpProtocol { kProtobuf, kJson };

// The instrumentation scope every backspan span is reported under.
inline constexpr const char* kScopeName = "backspan";

// An ExportTraceServiceRequest holding `spans`, which share `resource`.
std::string EncodeOtlpProtobuf(const Resource& resource, const std::string& scope_version,
                               const std::vector<SpanData>& spans);
std::string EncodeOtlpJson(const Resource& resource, const std::string& scope_version,
                           const std::vector<SpanData>& spans);

// What a collector answered: OTLP's ExportTracePartialSuccess. An empty
// body or no partial_success field means every span was accepted.
struct ExportResponse {
  int64_t rejected_spans = 0;
  std::string error_message;
};
Result<ExportResponse> DecodeOtlpProtobufResponse(const std::string& body);
Result<ExportResponse> DecodeOtlpJsonResponse(const std::string& body);

// A google.rpc.Status message (OTLP/HTTP error bodies): its `message`.
std::string DecodeOtlpProtobufErrorMessage(const std::string& body);

}  // namespace backspan::trace
