// Insight's plain words: an anomaly's message ("3.4× slower than usual for
// a Tuesday; `scan` took 41 min (usual 6 min); files changed ×12") and the
// calendar it needs. Messages carry numbers, phase names and the explained
// attributes only (docs/insight.md).
#pragma once

#include <cstdint>
#include <string>

namespace backspan::observatory::insight {

struct Anomaly;

struct CivilDay {
  int year = 1970, month = 1, day = 1;
  int weekday = 4;  // 0 Sunday
  int hour = 0;
};
// The UTC calendar day of an instant.
CivilDay CivilDayOf(int64_t unix_ns);
int DaysInMonth(int year, int month);
// Whether an instant falls on the last day of its month (UTC).
bool LastDayOfMonth(int64_t unix_ns);

// "41 min", "2 h 10 min", "35 s".
std::string FormatSeconds(double seconds);
// "48 GiB", "512 MiB", "900 B".
std::string FormatBytes(double bytes);

// The message of a duration, throughput, change or phase anomaly of a job
// that started at `start_ns`.
std::string DescribeAnomaly(const Anomaly& a, int64_t start_ns);
// "5 of the last 7 runs failed or were missed (usually 3 %)".
std::string DescribeFailures(int failed, int runs, double usual_rate);

}  // namespace backspan::observatory::insight
