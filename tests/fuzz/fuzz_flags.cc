// What users type: durations, sizes, keep counts, calendar durations,
// times, repository locations, group-by lists, exclude patterns, and the
// ids of the API's query parameters.
#include "backend/location.h"
#include "fuzz.h"
#include "observatory/ingest/external_spans.h"
#include "retention/policy.h"
#include "trace/span_data.h"
#include "util/byte_size.h"
#include "util/path_matcher.h"
#include "util/time_format.h"

using namespace backspan;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in = fuzz::Text(data, size);
  const std::string text(in);
  if (auto d = ParseDuration(in)) BACKSPAN_FUZZ_CHECK(*d >= 0 || text.find('-') != std::string::npos);
  if (auto b = ParseByteSize(in)) BACKSPAN_FUZZ_CHECK(*b >= 0);
  (void)ParseKeepCount(text);
  (void)ParseCalendarDuration(text);
  (void)ParseRfc3339(in);
  (void)ParseUserTime(in);
  (void)observatory::ParseExternalTime(in);
  (void)ParseLocation(text);
  (void)ParseGroupBy(text);
  (void)trace::TraceIdFromHex(text);
  (void)trace::SpanIdFromHex(text);
  const auto [pattern, path] = fuzz::Split(in);
  PathMatcher m({std::string(pattern)});
  (void)m.Matches("/" + std::string(path));
  return 0;
}
