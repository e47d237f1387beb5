// OTLP/HTTP export requests, protobuf (BACKSPAN_FUZZ_JSON unset) or JSON,
// finished spans or the in-progress extension (by the first byte), with
// and without a writer's scope: what the receiver does with each request.
#include "fuzz.h"
#include "observatory/ingest/otlp_decoder.h"
#include "observatory/store/trace_chunk.h"

using namespace backspan::observatory;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool in_progress = data[0] & 1;
  const Scope scope = Scope::Of({"rg-a"}, {{"env", "prod"}});
  SpanLimits limits;
  limits.max_attributes = 64;
  limits.max_events = 64;
  const std::string_view body = backspan::fuzz::Text(data + 1, size - 1);
  auto batch = DecodeTraceRequest(body, BACKSPAN_FUZZ_FORMAT, in_progress, limits, (data[0] & 2) ? &scope : nullptr);
  if (!batch.ok()) return 0;
  BACKSPAN_FUZZ_CHECK(batch->accepted >= 0 && batch->rejected >= 0);
  for (TraceChunk& c : batch->chunks) {
    BACKSPAN_FUZZ_CHECK(static_cast<size_t>(c.span_count) == c.span_ids.size());
    if (!c.span_ids.empty()) (void)DropSpans(&c, {c.span_ids.front()});
  }
  for (const LiveSpan& l : batch->live) (void)SpansOutsideScope(l.body, scope);
  (void)EncodeExportResponse(BACKSPAN_FUZZ_FORMAT, batch->rejected, batch->rejection);
  return 0;
}
