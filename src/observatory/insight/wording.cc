#include "observatory/insight/wording.h"

#include <cmath>
#include <cstdio>
#include <ctime>

#include "observatory/insight/anomaly.h"

namespace backspan::observatory::insight {
namespace {

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// "×3.4", "×12", "×0.05".
std::string Times(double r) {
  if (r >= 10) return "×" + Fixed(r, 0);
  if (r >= 0.095) return "×" + Fixed(r, 1);
  return "×" + Fixed(r, 2);
}

std::string Context(const std::string& context, int64_t start_ns) {
  static const char* const kDays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
  if (context == "weekday") return " for a " + std::string(kDays[CivilDayOf(start_ns).weekday]);
  if (context == "hour") return " for this time of day";
  if (context == "month_end") return " for a month end";
  return "";
}

std::string Amount(const Evidence& e, double v) {
  if (e.name == "duration_s" || (e.name.rfind("phase:", 0) == 0)) return FormatSeconds(v);
  if (e.name == "throughput_bytes_per_s") return FormatBytes(v) + "/s";
  if (e.name == "bytes_added" || e.name == "bytes_total") return FormatBytes(v);
  return Fixed(v, 0);
}

// A number out of its range in a few words: "files changed ×12".
std::string Aside(const Evidence& e) {
  if (e.name.rfind("phase:", 0) == 0) {
    const std::string phase = e.name.substr(6, e.name.size() - 8);
    return "`" + phase + "` took " + FormatSeconds(e.value) + (e.usual > 0 ? " (usual " + FormatSeconds(e.usual) + ")" : " (usually none)");
  }
  static const std::pair<const char*, const char*> kNames[] = {
      {"duration_s", "duration"}, {"throughput_bytes_per_s", "throughput"}, {"bytes_added", "bytes added"},
      {"files_changed", "files changed"}, {"bytes_total", "size"}, {"files_total", "files"}};
  for (const auto& [key, words] : kNames)
    if (e.name == key) return std::string(words) + " " + Times(e.ratio);
  return e.name + " " + Times(e.ratio);
}

}  // namespace

CivilDay CivilDayOf(int64_t unix_ns) {
  const int64_t seconds = unix_ns >= 0 ? unix_ns / 1'000'000'000 : -((-unix_ns + 999'999'999) / 1'000'000'000);
  const time_t t = static_cast<time_t>(seconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  return CivilDay{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_wday, tm.tm_hour};
}

int DaysInMonth(int year, int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[(month - 1) % 12];
}

bool LastDayOfMonth(int64_t unix_ns) {
  const CivilDay d = CivilDayOf(unix_ns);
  return d.day == DaysInMonth(d.year, d.month);
}

std::string FormatSeconds(double s) {
  if (s < 90) return Fixed(s, s < 10 ? 1 : 0) + " s";
  const double m = s / 60;
  if (m < 90) return Fixed(m, 0) + " min";
  const int64_t total = std::llround(m);
  return std::to_string(total / 60) + " h " + std::to_string(total % 60) + " min";
}

std::string FormatBytes(double b) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  while (b >= 1024 && u < 5) {
    b /= 1024;
    ++u;
  }
  return Fixed(b, u == 0 || b >= 10 ? 0 : 1) + " " + kUnits[u];
}

std::string DescribeAnomaly(const Anomaly& a, int64_t start_ns) {
  if (a.evidence.empty()) return a.kind;
  const Evidence& lead = a.evidence.front();
  const std::string when = Context(a.context, start_ns);
  std::string out;
  if (lead.name == "duration_s") {
    out = lead.ratio >= 1 ? Fixed(lead.ratio, 1) + "× slower than usual" + when
                          : "finished in " + FormatSeconds(lead.value) + ", " + Times(lead.ratio) + " of its usual " +
                                FormatSeconds(lead.usual) + when;
    if (lead.ratio >= 1) out += " (" + FormatSeconds(lead.value) + "; usual " + FormatSeconds(lead.usual) + ")";
  } else if (lead.name == "throughput_bytes_per_s") {
    out = "throughput fell to " + Amount(lead, lead.value) + ", " + Times(lead.ratio) + " of its usual " +
          Amount(lead, lead.usual) + when;
  } else if (lead.name == "bytes_total" || lead.name == "files_total") {
    out = std::string(lead.name == "bytes_total" ? "the source shrank" : "the source's files fell") + " to " +
          Times(lead.ratio) + " of usual (" + Amount(lead, lead.value) + "; usual " + Amount(lead, lead.usual) + ")" + when;
  } else {
    out = std::string(lead.name == "bytes_added" ? "bytes added " : "files changed ") + Times(lead.ratio) + " (" +
          Amount(lead, lead.value) + "; usual " + Amount(lead, lead.usual) + ")" + when;
  }
  for (size_t k = 1; k < a.evidence.size(); ++k) out += "; " + Aside(a.evidence[k]);
  for (const auto& c : a.changed)
    out += "; " + c.key + " " + (c.from.empty() ? "(none)" : c.from) + " → " + (c.to.empty() ? "(none)" : c.to);
  return out;
}

std::string DescribeFailures(int failed, int runs, double usual_rate) {
  const double pct = usual_rate * 100;
  return std::to_string(failed) + " of the last " + std::to_string(runs) + " runs failed or were missed (usually " +
         (pct < 1 ? Fixed(pct, 1) : Fixed(pct, 0)) + " %)";
}

}  // namespace backspan::observatory::insight
