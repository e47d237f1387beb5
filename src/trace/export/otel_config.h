// The standard OpenTelemetry SDK environment variables that configure trace
// export, parsed into one struct. Flags of the command line override them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "trace/export/otlp_encoding.h"
#include "trace/span_data.h"
#include "util/status.h"

namespace backspan::trace {

struct OtelConfig {
  bool sdk_disabled = false;  // OTEL_SDK_DISABLED=true
  std::string traces_url;     // empty: no OTLP export
  std::vector<std::pair<std::string, std::string>> headers;
  OtlpProtocol protocol = OtlpProtocol::kProtobuf;
  bool gzip = false;
  int64_t timeout_ns = 10'000'000'000;
  std::string service_name = "backspan";
  Attributes resource_attributes;  // OTEL_RESOURCE_ATTRIBUTES
  // The protocol asked for was grpc, which is not spoken: http/protobuf is
  // used instead, and the user is to be told so (which variable asked).
  std::string grpc_asked_by;
};

using GetEnv = std::function<const char*(const char*)>;

// Reads OTEL_SDK_DISABLED, OTEL_EXPORTER_OTLP_[TRACES_]{ENDPOINT, HEADERS,
// PROTOCOL, TIMEOUT, COMPRESSION}, OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES. A signal-specific variable wins over the general
// one; a general endpoint gets "/v1/traces" appended. kInvalidArgument names
// the variable that is malformed. grpc is answered with http/protobuf and
// grpc_asked_by set, never by exporting nothing.
Result<OtelConfig> ReadOtelConfig(const GetEnv& getenv);

// The traces URL for a base endpoint, as OTEL_EXPORTER_OTLP_ENDPOINT is read.
std::string TracesUrlFromBase(const std::string& base);
// "http/protobuf" or "http/json"; kUnsupported for grpc.
Result<OtlpProtocol> ParseOtlpProtocol(const std::string& text);
// "k1=v1,k2=v2" with percent-encoded values (W3C Baggage-style lists).
Result<std::vector<std::pair<std::string, std::string>>> ParseKeyValueList(const std::string& text);

}  // namespace backspan::trace
