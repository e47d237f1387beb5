// The values a retention policy is written with: calendar durations
// ("1y5m7d2h") and keep counts. Apart from policy.h so that what only
// parses a policy (the observatory's plans) needs no repository types.
#pragma once

#include <cstdint>
#include <string>

#include "util/status.h"

namespace backspan {

// A calendar duration such as "1y5m7d2h": years, months, days, hours.
struct CalendarDuration {
  int years = 0, months = 0, days = 0, hours = 0;
  bool IsZero() const { return years == 0 && months == 0 && days == 0 && hours == 0; }
  std::string ToString() const;
};

// Parses "1y5m7d2h" (any subset, in this order or not); kInvalidArgument
// for anything else.
Result<CalendarDuration> ParseCalendarDuration(const std::string& text);

// A --keep-* count: a non-negative number or "unlimited" (returned as -1).
Result<int> ParseKeepCount(const std::string& text);

// Checks one option of a retention policy as forget takes it, without the
// "--" ("keep-daily" with "7", "keep-within" with "1y2m"); InvalidArgument
// naming the option and what it takes.
Status CheckRetentionOption(const std::string& option, const std::string& value);

// Instant `d` before `t` (nanoseconds since the epoch), stepping back the
// calendar in local time: months of different lengths, leap years and
// daylight-saving changes count as the calendar says.
int64_t SubtractCalendar(int64_t t_ns, const CalendarDuration& d);

}  // namespace backspan
