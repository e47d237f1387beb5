// A stored trace as the API's JSON: every span with its resource, scope,
// attributes, events and links, in start order. The store has already left
// out what the caller's scope does not allow (SpanStore::GetTrace).
#pragma once

#include <string>

#include "observatory/store/span_store.h"

namespace backspan::observatory {

// The JSON text of {"trace_id", "spans": [...], "hidden_spans"}.
std::string RenderTraceJson(const std::string& trace_id_hex, const StoredTrace& trace);

}  // namespace backspan::observatory
