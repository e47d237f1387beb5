// What an OTLP endpoint answers the exporter: export responses (partial
// success) in protobuf and JSON, google.rpc.Status errors, Retry-After.
#include "fuzz.h"
#include "net/http_client.h"
#include "trace/export/otlp_encoding.h"

using namespace backspan;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(fuzz::Text(data, size));
  (void)trace::DecodeOtlpProtobufResponse(body);
  (void)trace::DecodeOtlpJsonResponse(body);
  (void)trace::DecodeOtlpProtobufErrorMessage(body);
  (void)net::ParseRetryAfter(body, 1'790'000'000);
  return 0;
}
