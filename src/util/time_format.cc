#include "util/time_format.h"

#include <cmath>

#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace backspan {

std::string FormatRfc3339(int64_t unix_nanos) {
  time_t secs = static_cast<time_t>(unix_nanos / 1000000000);
  long nanos = static_cast<long>(unix_nanos % 1000000000);
  if (nanos < 0) {
    nanos += 1000000000;
    --secs;
  }
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nanos);
  return buf;
}

namespace {

// Unix nanoseconds for `secs` + `nanos`, or nullopt past what 64 bits hold
// (before 1678 or after 2262): a time from outside is never allowed to wrap.
std::optional<int64_t> ToNanos(int64_t secs, int64_t nanos) {
  int64_t out;
  if (__builtin_mul_overflow(secs, int64_t{1000000000}, &out) || __builtin_add_overflow(out, nanos, &out))
    return std::nullopt;
  return out;
}

}  // namespace

std::optional<int64_t> ParseRfc3339(std::string_view text) {
  std::string s(text);
  struct tm tm = {};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  size_t pos = static_cast<size_t>(consumed);
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) {
        nanos = nanos * 10 + (s[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    while (digits++ < 9) nanos *= 10;
  }
  int64_t offset = 0;
  if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int hh = 0, mm = 0;
    if (std::sscanf(s.c_str() + pos + 1, "%2d:%2d", &hh, &mm) != 2) return std::nullopt;
    offset = (hh * 3600 + mm * 60) * (s[pos] == '+' ? 1 : -1);
  } else if (pos >= s.size() || (s[pos] != 'Z' && s[pos] != 'z')) {
    return std::nullopt;
  }
  time_t secs = timegm(&tm);
  return ToNanos(static_cast<int64_t>(secs) - offset, nanos);
}

std::optional<int64_t> ParseDuration(std::string_view text) {
  std::string s(text);
  if (s.empty()) return std::nullopt;
  double unit = 1;
  switch (s.back()) {
    case 's': unit = 1; s.pop_back(); break;
    case 'm': unit = 60; s.pop_back(); break;
    case 'h': unit = 3600; s.pop_back(); break;
    case 'd': unit = 86400; s.pop_back(); break;
    default: break;
  }
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  // At most 9e9 s (285 years): more does not fit 64-bit nanoseconds.
  if (end == s.c_str() || *end != '\0' || !std::isfinite(v) || v < 0 || v * unit > 9e9) return std::nullopt;
  return static_cast<int64_t>(v * unit * 1e9);
}

std::string FormatLocalShort(int64_t unix_nanos) {
  time_t secs = static_cast<time_t>(unix_nanos / 1000000000);
  struct tm tm;
  localtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

struct tm LocalCalendar(int64_t unix_nanos) {
  constexpr int64_t kNanos = 1000000000;
  const time_t secs = static_cast<time_t>(unix_nanos >= 0 ? unix_nanos / kNanos : (unix_nanos - kNanos + 1) / kNanos);
  struct tm tm {};
  localtime_r(&secs, &tm);
  return tm;
}

std::string FormatUtc(int64_t unix_nanos, const char* format) {
  const time_t secs = static_cast<time_t>(unix_nanos / 1000000000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[64];
  const size_t n = std::strftime(buf, sizeof buf, format, &tm);
  return std::string(buf, n);
}

std::optional<int64_t> ParseUserTime(std::string_view text) {
  if (auto t = ParseRfc3339(text)) return t;
  std::string s(text);
  struct tm tm {};
  const char* end = nullptr;
  for (const char* fmt : {"%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"}) {
    tm = {};
    end = strptime(s.c_str(), fmt, &tm);
    if (end != nullptr && *end == '\0') break;
    end = nullptr;
  }
  if (end == nullptr) return std::nullopt;
  tm.tm_isdst = -1;
  time_t t = mktime(&tm);
  if (t == static_cast<time_t>(-1)) return std::nullopt;
  return ToNanos(static_cast<int64_t>(t), 0);
}

std::optional<int64_t> ParseHttpDate(std::string_view text) {
  const std::string s(text);
  std::tm tm{};
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  // A year such as 6 parses; its seconds do not fit in nanoseconds.
  return ToNanos(static_cast<int64_t>(timegm(&tm)), 0);
}

}  // namespace backspan
