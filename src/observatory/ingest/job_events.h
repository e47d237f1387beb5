// The generic job-events API (POST /api/v1/ingest/events, docs/api.md): any
// backup system with hooks reports its jobs as events (started, progress,
// completed, failed), and each job becomes one span.
#pragma once

#include <cstdint>
#include <string_view>

#include "observatory/ingest/external_spans.h"

namespace backspan::observatory {

// Parses one event object, an array of them, {"events": [...]}, or JSON
// lines. A started or progress event makes an open span (the job runs); a
// completed or failed one ends it. InvalidArgument if the body is not JSON;
// unusable events are listed as rejected.
Result<ParsedSpans> JobEventSpans(std::string_view body, int64_t now_ns);

}  // namespace backspan::observatory
