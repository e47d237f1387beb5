// A stored trace as the API's JSON: every span with its resource, scope,
// attributes, events and links, in start order. The store has already left
// out what the caller's scope does not allow (SpanStore::GetTrace).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "observatory/store/span_store.h"

namespace backspan::observatory {

// An event the observatory adds to a stored span when showing it (an
// insight `anomaly`): never written into the span itself.
struct AddedEvent {
  std::string span_id_hex;
  std::string name;
  int64_t time_ns = 0;
  std::vector<std::pair<std::string, std::string>> text;
  std::vector<std::pair<std::string, double>> numbers;
};

// The JSON text of {"trace_id", "spans": [...], "hidden_spans"}; `added`
// events join their span's events (and are dropped if it is not shown).
std::string RenderTraceJson(const std::string& trace_id_hex, const StoredTrace& trace,
                            const std::vector<AddedEvent>& added = {});

}  // namespace backspan::observatory
