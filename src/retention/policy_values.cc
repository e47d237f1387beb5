#include "retention/policy_values.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "util/time_format.h"

namespace backspan {
namespace {

constexpr int64_t kNanos = 1000000000;

}  // namespace

std::string CalendarDuration::ToString() const {
  std::string s;
  if (years) s += std::to_string(years) + "y";
  if (months) s += std::to_string(months) + "m";
  if (days) s += std::to_string(days) + "d";
  if (hours) s += std::to_string(hours) + "h";
  return s.empty() ? "0h" : s;
}

Result<CalendarDuration> ParseCalendarDuration(const std::string& text) {
  CalendarDuration d;
  size_t i = 0;
  if (text.empty()) return Status::InvalidArgument("empty duration; use e.g. 1y5m7d2h");
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start || i == text.size() || i - start > 6)
      return Status::InvalidArgument("invalid duration '" + text + "'; use e.g. 1y5m7d2h");
    int n = std::stoi(text.substr(start, i - start));
    switch (text[i++]) {
      case 'y': d.years += n; break;
      case 'm': d.months += n; break;
      case 'd': d.days += n; break;
      case 'h': d.hours += n; break;
      default:
        return Status::InvalidArgument("invalid duration '" + text +
                                       "': units are y (years), m (months), d (days), h (hours)");
    }
  }
  return d;
}

Result<int> ParseKeepCount(const std::string& text) {
  if (text == "unlimited") return -1;
  if (text.empty() || text.size() > 9 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return Status::InvalidArgument("invalid count '" + text + "': use a number or 'unlimited'");
  return std::stoi(text);
}

int64_t SubtractCalendar(int64_t t_ns, const CalendarDuration& d) {
  struct tm tm = LocalCalendar(t_ns);
  time_t secs = static_cast<time_t>(t_ns >= 0 ? t_ns / kNanos : (t_ns - kNanos + 1) / kNanos);
  int64_t sub_ns = t_ns - static_cast<int64_t>(secs) * kNanos;
  tm.tm_year -= d.years;
  tm.tm_mon -= d.months;
  tm.tm_mday -= d.days;
  tm.tm_isdst = -1;  // let mktime decide for the new date
  time_t back = mktime(&tm) - static_cast<time_t>(d.hours) * 3600;
  return static_cast<int64_t>(back) * kNanos + sub_ns;
}

Status CheckRetentionOption(const std::string& option, const std::string& value) {
  static constexpr const char* kCounts[] = {"keep-last", "keep-hourly", "keep-daily", "keep-weekly", "keep-monthly",
                                            "keep-yearly"};
  static constexpr const char* kDurations[] = {"keep-within", "keep-within-hourly", "keep-within-daily",
                                               "keep-within-weekly", "keep-within-monthly", "keep-within-yearly"};
  const auto is = [&](const auto& names) {
    return std::any_of(std::begin(names), std::end(names), [&](const char* n) { return option == n; });
  };
  if (is(kCounts)) {
    if (!ParseKeepCount(value).ok())
      return Status::InvalidArgument("retention '" + option + "' must be a count (0 or more) or \"unlimited\"");
    return Status::Ok();
  }
  if (is(kDurations)) {
    if (!ParseCalendarDuration(value).ok())
      return Status::InvalidArgument("retention '" + option + "' must be a duration such as \"1y5m7d2h\"");
    return Status::Ok();
  }
  return Status::InvalidArgument("unknown retention option '" + option +
                                 "' (keep-last, keep-hourly, keep-daily, keep-weekly, keep-monthly, keep-yearly, "
                                 "keep-within and keep-within-{hourly,daily,weekly,monthly,yearly})");
}

}  // namespace backspan
