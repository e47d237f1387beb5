// JSON from outside, parsed with bounds: a document nested deeper than a
// limit, or holding more values than its size warrants, is refused while it
// is read, before its tree can take many times the body's size in memory
// (a body of "[],[],..." is 3 bytes a value, and each value costs ~70 in
// the tree). Only translation units that parse JSON include this.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace backspan {

struct JsonLimits {
  int max_depth = 64;
  // Values at most: this many, plus one for every `bytes_per_value` of the text.
  size_t base_values = 1024;
  size_t bytes_per_value = 4;
};

// The document in `text`, or a discarded value (is_discarded()) if it is
// not JSON or passes a limit; then `error`, if given, says which limit.
nlohmann::json ParseBoundedJson(std::string_view text, const JsonLimits& limits = {}, std::string* error = nullptr);

}  // namespace backspan
