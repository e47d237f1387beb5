// Small text helpers shared across modules.
#pragma once

#include <cctype>
#include <string>
#include <string_view>
#include <vector>

namespace backspan {

// `s` with ASCII letters in lower case (header names, hex ids, enum words);
// other bytes are unchanged.
inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// `s` without leading and trailing spaces, tabs and line ends.
inline std::string_view Trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// The pieces of `s` between `sep`s (views into `s`; "" gives one empty
// piece, "a,,b" three).
inline std::vector<std::string_view> SplitView(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (size_t start = 0;;) {
    const size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

// `s` percent-encoded, all but letters, digits and "-_.~" (RFC 3986
// unreserved), and "/" if `keep_slash`: values in OTEL_RESOURCE_ATTRIBUTES
// (W3C Baggage rules), form fields, URI paths and queries.
inline std::string PercentEncode(std::string_view s, bool keep_slash = false) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace backspan
