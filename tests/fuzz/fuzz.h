// Shared by the fuzz targets (libFuzzer): the input as text, and a way to
// split it in two. Each target feeds one parser of outside input; the
// sanitizers report what goes wrong, and a target aborts (__builtin_trap)
// when an invariant of the parser it drives does not hold.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace backspan::fuzz {

inline std::string_view Text(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// The input split at its first "\n--\n" (or not at all).
inline std::pair<std::string_view, std::string_view> Split(std::string_view in) {
  const size_t at = in.find("\n--\n");
  if (at == std::string_view::npos) return {in, {}};
  return {in.substr(0, at), in.substr(at + 4)};
}

#define BACKSPAN_FUZZ_CHECK(cond) \
  do {                            \
    if (!(cond)) __builtin_trap(); \
  } while (0)

}  // namespace backspan::fuzz
