// Decoding and checking OTLP/HTTP trace export requests from any SDK, in
// binary protobuf or JSON, and the bodies the receiver answers with. Only
// the files of ingest/ and store/trace_chunk.cc see the generated protobuf code.
#pragma once

#include <string>
#include <string_view>

#include "observatory/store/records.h"
#include "observatory/access/scope.h"
#include "util/status.h"

namespace backspan::observatory {

enum class WireFormat { kProtobuf, kJson };

// Bounds on one span; a span over them is rejected (a partial success), so
// one runaway client cannot blow up the store. Documented in docs/api.md.
struct SpanLimits {
  size_t max_attributes = 1024;  // per span, event, link and resource
  size_t max_events = 1024;
  size_t max_links = 1024;
  size_t max_name_bytes = 4096;
};

// Decodes an ExportTraceServiceRequest. Invalid spans (bad ids, end before
// start, over the limits) are counted in `rejected` with the first reason;
// the rest are returned. `in_progress` marks snapshots of open spans (the
// in-progress extension): they become LiveSpans and running jobs.
// InvalidArgument if the body is not a request at all. With `write_scope`,
// spans whose resource group and tags fall outside it are rejected too: an
// agent writes only where it is allowed.
Result<IngestBatch> DecodeTraceRequest(std::string_view body, WireFormat format, bool in_progress,
                                       const SpanLimits& limits = {}, const Scope* write_scope = nullptr);

// The success answer: an ExportTraceServiceResponse, with partial_success
// set when spans were rejected.
std::string EncodeExportResponse(WireFormat format, int64_t rejected, const std::string& message);

// An error answer: a google.rpc.Status with `code` (gRPC code numbers, e.g.
// 3 INVALID_ARGUMENT) and `message`.
std::string EncodeRpcStatus(WireFormat format, int code, const std::string& message);

}  // namespace backspan::observatory
