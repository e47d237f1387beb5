// JSON from outside, parsed with bounds: a document nested deeper than a
// limit, or whose tree would take many times its size in memory, is refused
// while it is read, before the tree is built (a body of "[],[],..." costs 3
// bytes a value as text and ~70 in the tree). Only translation units that
// parse JSON include this.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "util/json_limits.h"

namespace backspan {

// The document in `text`, or a discarded value (is_discarded()) if it is
// not JSON or passes a limit; then `error`, if given, says which limit.
nlohmann::json ParseBoundedJson(std::string_view text, const JsonLimits& limits = {}, std::string* error = nullptr);

}  // namespace backspan
