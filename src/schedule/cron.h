// A cron expression: the five fields of crontab(5) (minute, hour, day of
// month, month, day of week) with lists, ranges, steps and names, or one of
// @hourly, @daily (@midnight), @weekly, @monthly, @yearly (@annually).
//
// It is evaluated as cron does (docs/agent.md, "Schedules and DST"):
// - day of month and day of week: when both are restricted (neither begins
//   with '*'), a day matches if either does; otherwise both must;
// - a wall-clock time skipped by a DST change (02:30 when clocks jump from
//   02:00 to 03:00) runs at the end of the gap if the job is fixed-time
//   (neither minute nor hour begins with '*'), and not at all otherwise;
// - a wall-clock time that happens twice (clocks go back) runs once, at the
//   first, if the job is fixed-time, and at both otherwise.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "schedule/time_zone.h"
#include "util/status.h"

namespace backspan::schedule {

class CronExpression {
 public:
  // Parses `text`. InvalidArgument naming the field and what is wrong with
  // it ("hour field '25': 25 is out of range 0-23"); also for an expression
  // that can never match ("0 0 30 2 *").
  static Result<CronExpression> Parse(std::string_view text);

  // The first instant strictly after `after` (unix seconds) at which the job
  // runs in `zone`; nullopt only if there is none in the next 30 years.
  std::optional<int64_t> Next(int64_t after, const TimeZone& zone) const;

  // Whether the wall-clock minute matches the fields (time zones aside).
  bool Matches(const CivilMinute& c) const;
  // Fixed-time: neither minute nor hour begins with '*' (the DST rules).
  bool fixed_time() const { return fixed_time_; }
  const std::string& text() const { return text_; }

 private:
  // The first matching wall-clock minute at or after `ordinal`
  // (CivilMinute::Ordinal), within `horizon_minutes`.
  std::optional<int64_t> NextMatchingMinute(int64_t ordinal, int64_t horizon_minutes) const;
  bool DayMatches(const CivilMinute& c) const;

  std::string text_;
  uint64_t minutes_ = 0;  // bit i: minute i
  uint32_t hours_ = 0;
  uint32_t days_ = 0;     // bit d: day of month d (1-31)
  uint16_t months_ = 0;   // bit m: month m (1-12)
  uint8_t weekdays_ = 0;  // bit w: 0 = Sunday
  bool day_of_month_star_ = false, day_of_week_star_ = false;
  bool fixed_time_ = true;
};

}  // namespace backspan::schedule
