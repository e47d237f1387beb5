// An anomaly as insight reports it (docs/insight.md): its kind, the one
// vocabulary of the API, the metrics and the notifications, and its
// evidence.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace backspan::observatory::insight {

// The anomaly kinds (docs/insight.md): the one vocabulary of the API, the
// metrics and the notifications.
inline constexpr char kAnomalyDuration[] = "duration";
inline constexpr char kAnomalyThroughput[] = "throughput";
inline constexpr char kAnomalyChange[] = "change";
inline constexpr char kAnomalyFailures[] = "failures";
inline constexpr char kAnomalyPhase[] = "phase";
inline constexpr const char* kAnomalyKinds[] = {kAnomalyDuration, kAnomalyThroughput, kAnomalyChange,
                                                kAnomalyFailures, kAnomalyPhase};

// One number of the job set against its usual range.
struct Evidence {
  std::string name;  // duration_s, throughput_bytes_per_s, bytes_added, files_changed, bytes_total, files_total, failed_runs, phase:<name>_s
  double value = 0, usual = 0, low = 0, high = 0;  // usual: the baseline's expectation; [low, high]: its usual range
  double ratio = 0;                                // value / usual
  double z = 0;                                    // robust z-score (log scale)
  bool operator==(const Evidence&) const = default;
};

struct AttributeChange {
  std::string key, from, to;
  bool operator==(const AttributeChange&) const = default;
};

struct Anomaly {
  std::string kind;
  size_t job = 0;  // its index in the source's jobs
  double score = 0;
  std::string severity;  // "warning" or "critical"
  std::string message;   // plain words, numbers only: never a path or a credential
  std::string context;   // the baseline it was judged against: "usual", "weekday", "hour", "month_end"
  int baseline_jobs = 0;
  std::vector<Evidence> evidence;
  std::vector<AttributeChange> changed;
};

}  // namespace backspan::observatory::insight
