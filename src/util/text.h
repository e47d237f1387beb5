// Small text helpers shared across modules.
#pragma once

#include <cctype>
#include <string>
#include <string_view>

namespace backspan {

// `s` with ASCII letters in lower case (header names, hex ids, enum words);
// other bytes are unchanged.
inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace backspan
