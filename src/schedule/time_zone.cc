#include "schedule/time_zone.h"

#include <date/date.h>
#include <date/tz.h>

#include <chrono>
#include <cstdio>
#include <exception>

namespace backspan::schedule {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const date::time_zone* Zone(const void* p) { return static_cast<const date::time_zone*>(p); }

// tzdata's files list each zone's transitions up to 2037; the rule for later
// years (the files' POSIX TZ footer) is not read by the date library. A later
// year is therefore read as the latest listed year with the same calendar
// (leap or not, the same weekday on 1 January), whose rule-based transitions
// fall on the same dates: the days to move it back by, or 0.
constexpr int kLastListedYear = 2037;

int64_t DaysToEquivalentYear(int year) {
  if (year <= kLastListedYear) return 0;
  const auto jan1 = [](int y) { return date::sys_days{date::year{y} / 1 / 1}; };
  const bool leap = date::year{year}.is_leap();
  const unsigned weekday = date::weekday{jan1(year)}.c_encoding();
  for (int e = kLastListedYear;; --e)
    if (date::year{e}.is_leap() == leap && date::weekday{jan1(e)}.c_encoding() == weekday)
      return (jan1(year) - jan1(e)).count();
}

int UtcYear(int64_t unix_seconds) {
  return int(date::year_month_day{date::floor<date::days>(date::sys_seconds{seconds{unix_seconds}})}.year());
}

CivilMinute FromLocalMinutes(int64_t ordinal) {
  const date::sys_days day{date::days{ordinal >= 0 ? ordinal / 1440 : (ordinal - 1439) / 1440}};
  const int64_t in_day = ordinal - int64_t{day.time_since_epoch().count()} * 1440;
  const date::year_month_day ymd{day};
  CivilMinute c;
  c.year = int(ymd.year());
  c.month = int(unsigned(ymd.month()));
  c.day = int(unsigned(ymd.day()));
  c.hour = int(in_day / 60);
  c.minute = int(in_day % 60);
  c.weekday = int(date::weekday{day}.c_encoding());
  return c;
}

}  // namespace

int64_t CivilMinute::Ordinal() const {
  const date::sys_days date{date::year{year} / date::month{unsigned(month)} / date::day{unsigned(this->day)}};
  return int64_t{date.time_since_epoch().count()} * 1440 + hour * 60 + minute;
}

CivilMinute CivilMinute::FromOrdinal(int64_t ordinal) { return FromLocalMinutes(ordinal); }

std::string CivilMinute::ToString() const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d", year, month, day, hour, minute);
  return buf;
}

Result<TimeZone> TimeZone::Load(const std::string& name) {
  if (name == "UTC" || name == "Etc/UTC") return Utc();
  try {
    const date::time_zone* zone = name == "Local" ? date::current_zone() : date::locate_zone(name);
    return TimeZone(name, zone);
  } catch (const std::exception&) {
    return Status::InvalidArgument("unknown time zone '" + name + "' (an IANA name such as Europe/Berlin or UTC)");
  }
}

TimeZone TimeZone::Utc() { return TimeZone("UTC", nullptr); }

int64_t TimeZone::OffsetAt(int64_t unix_seconds) const {
  if (!zone_) return 0;
  const int64_t shift = DaysToEquivalentYear(UtcYear(unix_seconds)) * 86400;
  return Zone(zone_)->get_info(date::sys_seconds{seconds{unix_seconds - shift}}).offset.count();
}

CivilMinute TimeZone::ToCivil(int64_t unix_seconds) const {
  const int64_t local = unix_seconds + OffsetAt(unix_seconds);
  return FromLocalMinutes(local >= 0 ? local / 60 : (local - 59) / 60);
}

CivilMapping TimeZone::FromCivil(const CivilMinute& civil) const {
  const int64_t local = civil.Ordinal() * 60;
  CivilMapping m;
  if (!zone_) {
    m.first = local;
    return m;
  }
  const int64_t shift = DaysToEquivalentYear(civil.year) * 86400;
  const auto info = Zone(zone_)->get_info(date::local_seconds{seconds{local - shift}});
  switch (info.result) {
    case date::local_info::unique:
      m.first = local - info.first.offset.count();
      break;
    case date::local_info::nonexistent:
      m.kind = CivilMapping::kSkipped;
      m.first = info.second.begin.time_since_epoch().count() + shift;
      break;
    case date::local_info::ambiguous:
      m.kind = CivilMapping::kRepeated;
      m.first = local - info.first.offset.count();
      m.second = local - info.second.offset.count();
      break;
  }
  return m;
}

}  // namespace backspan::schedule
