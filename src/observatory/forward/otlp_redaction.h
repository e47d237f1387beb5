// Redaction of spans in their stored form (a serialized OTLP ResourceSpans),
// so what `serve --forward` sends on obeys the same rules as what backspan's
// own jobs export (docs/tracing.md, "Redaction"): the built-in credential
// detectors always, the path rule and the key rules as configured.
#pragma once

#include <string>
#include <string_view>

#include "trace/redactor.h"
#include "util/status.h"

namespace backspan::observatory {

// `resource_spans` with every resource, span, event and link attribute and
// every status message redacted by `redactor`. Values backspan's span model
// does not hold (maps, bytes) are kept unless a rule drops or hashes their
// key. Corruption if it does not parse.
Result<std::string> RedactResourceSpans(std::string_view resource_spans, const trace::Redactor& redactor);

}  // namespace backspan::observatory
