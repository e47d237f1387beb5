// Other systems' backup events: Azure Monitor alerts (common alert schema),
// Azure Backup job records (arrays, JSON lines, Log Analytics tables) and
// the job-events API, chosen by BACKSPAN_FUZZ_EXTERNAL.
#include "fuzz.h"
#include "observatory/ingest/azure_events.h"
#include "observatory/ingest/job_events.h"

using namespace backspan::observatory;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body = backspan::fuzz::Text(data, size);
  const int64_t now = 1'790'000'000'000'000'000;
#if BACKSPAN_FUZZ_EXTERNAL == 0
  auto span = AzureAlertSpan(body, now);
  if (span.ok()) BACKSPAN_FUZZ_CHECK(span->span.trace_id != backspan::trace::TraceId{});
#else
  auto spans = BACKSPAN_FUZZ_EXTERNAL == 1 ? AzureBackupJobSpans(body, now) : JobEventSpans(body, now);
  if (spans.ok())
    for (const auto& es : spans->spans) BACKSPAN_FUZZ_CHECK(es.span.span_id != backspan::trace::SpanId{});
#endif
  return 0;
}
