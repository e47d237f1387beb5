// When a policy's runs are due: a cron expression in an IANA time zone, or
// a fixed interval ("@every 6h", ticks at whole multiples of the interval
// since 1970-01-01 UTC, so they stay put across restarts).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schedule/cron.h"
#include "schedule/time_zone.h"
#include "util/status.h"

namespace backspan::schedule {

class Schedule {
 public:
  // Parses `text` (a cron expression, a cron macro or "@every DURATION"
  // of at least a minute) in the zone named `zone` (empty: UTC).
  // InvalidArgument naming what is wrong.
  static Result<Schedule> Parse(std::string_view text, const std::string& zone);

  // The first tick strictly after `after` (unix seconds); nullopt if none
  // in the next 30 years.
  std::optional<int64_t> Next(int64_t after) const;
  // The ticks in (after, until], oldest first, at most `limit` of them.
  std::vector<int64_t> Between(int64_t after, int64_t until, size_t limit) const;
  // The last tick at or before `at`; nullopt if there is none in the 400
  // days before it.
  std::optional<int64_t> LastAtOrBefore(int64_t at) const;

  const std::string& text() const { return text_; }
  const TimeZone& zone() const { return zone_; }
  // For an interval schedule: the interval in seconds; 0 for cron.
  int64_t interval_seconds() const { return interval_; }

 private:
  Schedule(std::string text, TimeZone zone) : text_(std::move(text)), zone_(std::move(zone)) {}
  std::string text_;
  TimeZone zone_;
  std::optional<CronExpression> cron_;
  int64_t interval_ = 0;
};

}  // namespace backspan::schedule
