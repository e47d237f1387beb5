// Backup events from other systems (Azure Monitor alerts, Azure Backup job
// records, any tool's job events) as spans. Each parser turns its input into
// ExternalSpans whose ids derive from the source's own ids, so the same job
// or alert always lands on the same span, whatever the order or the number
// of deliveries; external_span_writer.h stores them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "observatory/access/scope.h"
#include "trace/span_data.h"
#include "util/status.h"

namespace backspan::observatory {

struct ExternalSpan {
  trace::Resource resource;
  trace::SpanData span;  // start_ns 0: keep the stored start (a job event that ends a started job)
  // Not final: the job is still running, or the event was a start or progress.
  // An open version never replaces a final one.
  bool open = false;
  // An alert about the job its parent span is: it also becomes an event on
  // that span, now or when the job arrives.
  bool alert = false;
  // Versions of one span that a source sends in order, ranked: a version
  // never replaces a higher-ranked one (a Resolved alert stays resolved
  // when Azure retries the Fired notification). See VersionRank.
  int rank = 0;
};

// The rank of a version from its attributes: 2 for a resolved alert, 1 for
// a fired one, 0 for anything else.
int VersionRank(const trace::Attributes& attributes);

// What a parser made of a request: the spans, and why items were rejected
// ("row 3: JobStartDateTime ..."). Items are rows, events or alerts.
struct ParsedSpans {
  std::vector<ExternalSpan> spans;
  std::vector<std::string> rejected;
};

// The trace and span id that `id` of kind `ns` (e.g. "azure-backup-job")
// always maps to: SHA-256 of "backspan/<ns>/<id>", trace id from its first
// 16 bytes, span id from the next 8. Ids compare case-insensitively.
trace::TraceId DerivedTraceId(std::string_view ns, std::string_view id);
trace::SpanId DerivedSpanId(std::string_view ns, std::string_view id);

// Timestamps other systems send: RFC 3339 / ISO 8601 with any number of
// fractional digits ("2019-03-22T13:58:24.3713213Z"), with or without a zone
// (none: UTC). nullopt if malformed.
std::optional<int64_t> ParseExternalTime(std::string_view text);

// Whether `ns` is a plausible time for a backup event received at `now_ns`:
// after 2000-01-01 and at most a day ahead. Outside it, the date is a bug
// or a unit mix-up that would wreck every trend it landed in.
bool PlausibleTime(int64_t ns, int64_t now_ns);

// The non-blank lines of a JSON-lines body, each with its 1-based number.
std::vector<std::pair<size_t, std::string_view>> NonBlankLines(std::string_view body);

// The resource group named in an Azure resource id
// ("/subscriptions/…/resourceGroups/<name>/…"), matched case-insensitively;
// empty if there is none.
std::string ResourceGroupOf(std::string_view resource_id);

}  // namespace backspan::observatory
