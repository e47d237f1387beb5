// What is coming for a source, from its jobs before a moment (`as_of`), so
// a forecast can be backtested against what happened next
// (docs/insight.md): the run whose duration will pass its window, when
// stored bytes pass a quota, and the risk that the next run fails, is
// missed or overruns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "observatory/insight/job_point.h"

namespace backspan::observatory::insight {

struct OverrunForecast {
  int64_t expected_at_ns = 0;  // when the run that overruns starts
  int runs_ahead = 0;          // 1: the next run
  double window_s = 0;         // its window: deadline minus start
  double predicted_duration_s = 0;
  double low_s = 0, high_s = 0;  // the 90 % band of that prediction
  double trend_s_per_day = 0;
};

struct GrowthForecast {
  double stored_bytes = 0, quota_bytes = 0, bytes_per_day = 0;
  int64_t expected_at_ns = 0;  // 0: not within the horizon
};

struct Risk {
  double p_fail = 0, p_missed = 0;
  std::optional<double> p_overrun;  // none without deadlines
};

// What a source's last runs say about its next one: the last run went well;
// it failed (once, or twice or more in a row); it was missed (likewise).
inline constexpr int kRunStates = 5;

// How runs went after each state, counted over many sources: the prior a
// source with little history borrows.
struct FleetRates {
  double runs[kRunStates] = {}, failed[kRunStates] = {}, missed[kRunStates] = {};
  // Counts jobs[0, end)'s runs by the state before each.
  void Add(const std::vector<JobPoint>& jobs, size_t end);
};

struct Forecast {
  std::optional<OverrunForecast> overrun;
  std::optional<GrowthForecast> growth;
  Risk risk;
  int64_t next_run_ns = 0;  // 0: unknown
};

// The overrun horizon: an overrun further ahead than this is not reported.
inline constexpr int kOverrunHorizonRuns = 30;

// The forecast from jobs[0, end) (those that started before `as_of_ns`);
// `quota_bytes` 0: no growth forecast.
Forecast ForecastSource(const std::vector<JobPoint>& jobs, size_t end, int64_t as_of_ns, const FleetRates& fleet,
                        double quota_bytes);

}  // namespace backspan::observatory::insight
