#include "util/byte_size.h"

#include <cctype>
#include <cmath>
#include <string>

namespace backspan {

std::optional<int64_t> ParseByteSize(std::string_view text) {
  std::string s(text);
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) return std::nullopt;
  double n;
  try {
    n = std::stod(s.substr(0, i));
  } catch (...) {
    return std::nullopt;
  }
  std::string unit = s.substr(i);
  for (auto& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  double mult = 1;
  if (unit.empty() || unit == "B") mult = 1;
  else {
    const std::string prefixes = "KMGT";
    size_t p = prefixes.find(unit[0]);
    if (p == std::string::npos) return std::nullopt;
    std::string rest = unit.substr(1);
    double base = rest == "IB" ? 1024.0 : (rest == "B" || rest.empty()) ? 1000.0 : 0;
    if (base == 0) return std::nullopt;
    mult = std::pow(base, static_cast<double>(p + 1));
  }
  double bytes = n * mult;
  if (!std::isfinite(bytes) || bytes < 0 || bytes > 9e18) return std::nullopt;
  return static_cast<int64_t>(bytes);
}

}  // namespace backspan
