// Sizes as users write them: "512", "64KiB", "20MiB", "10GB", "1.5TiB".
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace backspan {

// Bytes; K/M/G/T with "iB" are powers of 1024, with "B" or alone powers of
// 1000. nullopt if malformed or negative.
std::optional<int64_t> ParseByteSize(std::string_view text);

}  // namespace backspan
