// RFC 3339 timestamps with nanoseconds, as stored in snapshots.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace backspan {

// Formats unix nanoseconds as UTC "2026-11-24T01:02:03.123456789Z".
std::string FormatRfc3339(int64_t unix_nanos);
// Parses what FormatRfc3339 writes, plus offsets like "+02:00" and fewer
// fractional digits.
std::optional<int64_t> ParseRfc3339(std::string_view text);
// Parses an HTTP date (RFC 9110 IMF-fixdate, "Sun, 06 Nov 1994 08:49:37
// GMT", as Last-Modified and Retry-After carry them) into unix nanoseconds.
std::optional<int64_t> ParseHttpDate(std::string_view text);
// Parses a user-given timestamp: RFC 3339, or "YYYY-MM-DD HH:MM[:SS]" and
// "YYYY-MM-DD" in local time (restic's --time format).
std::optional<int64_t> ParseUserTime(std::string_view text);
// Parses a duration such as "90s", "1.5m", "2h", "1d" or plain seconds
// ("30") into nanoseconds; nullopt if malformed or negative.
std::optional<int64_t> ParseDuration(std::string_view text);

// A short local display form: "2026-11-24 01:02:03".
std::string FormatLocalShort(int64_t unix_nanos);

// The local calendar time of an instant, its seconds rounded down (also
// before 1970).
struct tm LocalCalendar(int64_t unix_nanos);

// The UTC time at `unix_nanos` in a strftime(3) `format` (HTTP dates,
// SigV4's basic ISO 8601).
std::string FormatUtc(int64_t unix_nanos, const char* format);

}  // namespace backspan
