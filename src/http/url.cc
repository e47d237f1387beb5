#include "http/url.h"

#include "util/text.h"

namespace backspan::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

Params ParseQuery(std::string_view query) {
  Params out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    std::string key = PercentDecode(part.substr(0, eq), true);
    std::string value = eq == std::string_view::npos ? std::string() : PercentDecode(part.substr(eq + 1), true);
    out.emplace(std::move(key), std::move(value));
  }
  return out;
}

std::optional<Target> ParseTarget(std::string_view target) {
  if (target == "*") return Target{"*", ""};
  if (target.empty()) return std::nullopt;
  if (target[0] != '/') {
    // Absolute form: a scheme and an authority before the path.
    const std::string lower = AsciiLower(target.substr(0, 8));
    size_t start;
    if (lower.rfind("http://", 0) == 0) start = 7;
    else if (lower.rfind("https://", 0) == 0) start = 8;
    else return std::nullopt;
    const size_t slash = target.find_first_of("/?", start);
    if (slash == start) return std::nullopt;  // no authority
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    if (target[0] == '?') {  // "http://host?q": the path is "/"
      Target out{"/", std::string(target.substr(1))};
      if (const size_t hash = out.query.find('#'); hash != std::string::npos) out.query.resize(hash);
      return out;
    }
  }
  const size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  if (const size_t hash = query.find('#'); hash != std::string_view::npos) query = query.substr(0, hash);
  if (const size_t hash = path.find('#'); hash != std::string_view::npos) path = path.substr(0, hash);
  Target out{PercentDecode(path, false), std::string(query)};
  if (out.path.find('\0') != std::string::npos) return std::nullopt;
  return out;
}

}  // namespace backspan::http
