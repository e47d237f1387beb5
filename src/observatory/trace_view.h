// A stored trace as the API's JSON: every span with its resource, scope,
// attributes, events and links, in start order, limited to the spans the
// caller's scope allows.
#pragma once

#include <string>

#include "observatory/scope.h"
#include "observatory/span_store.h"

namespace backspan::observatory {

// The JSON text of {"trace_id", "spans": [...]}; `visible` is set to the
// number of spans shown (0: the caller may see none of this trace).
std::string RenderTraceJson(const std::string& trace_id_hex, const StoredTrace& trace, const Scope& scope,
                            int* visible);

}  // namespace backspan::observatory
