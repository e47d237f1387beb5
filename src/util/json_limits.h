// The bounds on JSON read from outside (util/bounded_json.h parses with
// them), and the size of a document's tree measured without building it:
// this header does not include the JSON library, so callers that only
// measure (to reserve memory first) stay light.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace backspan {

struct JsonLimits {
  int max_depth = 64;
  // The tree may take at most this many times the text's size (plus 64 KiB).
  size_t max_memory_factor = 24;
};

// About how many bytes the tree of `text` would take (nlohmann's, on
// 64-bit), found without building it: of the one document, or of each line
// of JSON lines; nullopt if `text` is neither within `limits`.
std::optional<size_t> JsonTreeSize(std::string_view text, const JsonLimits& limits = {});

}  // namespace backspan
