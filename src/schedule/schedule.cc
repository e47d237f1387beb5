#include "schedule/schedule.h"

#include "util/text.h"
#include "util/time_format.h"

namespace backspan::schedule {

Result<Schedule> Schedule::Parse(std::string_view input, const std::string& zone_name) {
  auto zone = TimeZone::Load(zone_name.empty() ? "UTC" : zone_name);
  if (!zone.ok()) return zone.status();
  const std::string_view text = Trim(input);
  Schedule s(std::string(text), *zone);
  constexpr std::string_view kEvery = "@every ";
  if (text.substr(0, kEvery.size()) == kEvery) {
    const std::string_view amount = Trim(text.substr(kEvery.size()));
    auto ns = ParseDuration(amount);
    if (!ns || *ns < int64_t{60} * 1000000000)
      return Status::InvalidArgument(std::string(text) + ": the interval must be a duration of at least 1m (30m, 6h, 1d)");
    s.interval_ = *ns / 1000000000;
    return s;
  }
  auto cron = CronExpression::Parse(text);
  if (!cron.ok()) return cron.status();
  s.cron_ = std::move(*cron);
  return s;
}

std::optional<int64_t> Schedule::Next(int64_t after) const {
  if (interval_) {
    const int64_t k = after >= 0 ? after / interval_ : (after - interval_ + 1) / interval_;
    return (k + 1) * interval_;
  }
  return cron_->Next(after, zone_);
}

std::vector<int64_t> Schedule::Between(int64_t after, int64_t until, size_t limit) const {
  std::vector<int64_t> ticks;
  for (auto t = Next(after); t && *t <= until && ticks.size() < limit; t = Next(*t)) ticks.push_back(*t);
  return ticks;
}

std::optional<int64_t> Schedule::LastAtOrBefore(int64_t at) const {
  if (interval_) return *Next(at - interval_);
  // Look back a day, then further, then take the last tick of that stretch.
  for (int64_t back : {int64_t{86400}, int64_t{86400} * 32, int64_t{86400} * 400}) {
    std::optional<int64_t> last;
    for (auto t = Next(at - back - 1); t && *t <= at; t = Next(*t)) last = t;
    if (last) return last;
  }
  return std::nullopt;
}

}  // namespace backspan::schedule
