// The JSON bodies of the external ingest endpoints: one document, or JSON
// lines (a document per line), parsed with util/bounded_json.h's bounds,
// and at most kMaxItemsPerRequest items, so that no body can cost much
// more memory than its size.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace backspan::observatory {

// Items (alerts, rows, events) one request may carry; more is a 400.
inline constexpr size_t kMaxItemsPerRequest = 10000;

struct JsonBody {
  bool lines = false;                // JSON lines: docs holds one per non-blank line
  std::vector<nlohmann::json> docs;  // else the one document
};

// Parses `body`; InvalidArgument with `not_json` (or the line, or the bound
// passed) if it is neither.
Result<JsonBody> ParseJsonBody(std::string_view body, const char* not_json);

// InvalidArgument if `n` items are more than one request may carry.
Status CheckItemCount(size_t n, const char* what);

}  // namespace backspan::observatory
