// An IANA time zone (Europe/Berlin, America/New_York, UTC) read from the
// system's zoneinfo (Debian's tzdata), and the mapping between instants and
// the wall-clock minutes that schedules are written in. The date library's
// heavy header stays in time_zone.cc.
#pragma once

#include <cstdint>
#include <string>

#include "util/status.h"

namespace backspan::schedule {

// A wall-clock minute: what a cron expression matches.
struct CivilMinute {
  int year = 1970, month = 1, day = 1;  // month 1-12, day 1-31
  int hour = 0, minute = 0;
  int weekday = 4;  // 0 = Sunday; filled in by TimeZone::ToCivil and Normalize

  // Minutes since 1970-01-01 00:00 of the same wall clock (no zone): an
  // order on wall-clock times, and arithmetic on them.
  int64_t Ordinal() const;
  static CivilMinute FromOrdinal(int64_t ordinal);
  // "2026-03-29 02:30".
  std::string ToString() const;
};

// How a wall-clock minute maps to instants in a zone.
struct CivilMapping {
  enum Kind { kUnique, kSkipped, kRepeated } kind = kUnique;
  int64_t first = 0;   // unix seconds: the instant (kUnique), its earlier one (kRepeated),
                       // or the end of the gap that skipped it (kSkipped)
  int64_t second = 0;  // kRepeated: the later instant
};

class TimeZone {
 public:
  // The zone named `name` (an IANA name; "UTC" and "Local" too: Local is the
  // host's /etc/localtime). InvalidArgument naming it if there is no such zone.
  static Result<TimeZone> Load(const std::string& name);
  static TimeZone Utc();

  const std::string& name() const { return name_; }
  // The wall-clock minute at `unix_seconds` (seconds truncated).
  CivilMinute ToCivil(int64_t unix_seconds) const;
  // The instants at which the wall clock shows `civil`.
  CivilMapping FromCivil(const CivilMinute& civil) const;
  // UTC offset at `unix_seconds`, in seconds east.
  int64_t OffsetAt(int64_t unix_seconds) const;

 private:
  TimeZone(std::string name, const void* zone) : name_(std::move(name)), zone_(zone) {}
  std::string name_;
  const void* zone_;  // a date::time_zone owned by the library's database; null for UTC
};

}  // namespace backspan::schedule
