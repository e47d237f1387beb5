#include "observatory/insight/forecaster.h"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <utility>

#include "observatory/insight/robust_stats.h"
#include "observatory/insight/wording.h"

namespace backspan::observatory::insight {
namespace {

constexpr double kDaySeconds = 86400;
constexpr int64_t kWeekNs = 7 * 86'400'000'000'000;
constexpr size_t kTrendJobs = 30, kMinTrendJobs = 8;
constexpr double kLeastRisk = 0.002;

bool SameWeekSlot(int64_t a, int64_t b) {
  int64_t d = ((a - b) % kWeekNs + kWeekNs) % kWeekNs;
  return std::min(d, kWeekNs - d) <= 90LL * 60 * 1'000'000'000;
}

bool IsFail(const JobPoint& j) { return j.outcome == Outcome::kFailed || j.outcome == Outcome::kPartial; }

// The runs (not kOther) among jobs[0, end), in order.
std::vector<size_t> Runs(const std::vector<JobPoint>& jobs, size_t end) {
  std::vector<size_t> out;
  for (size_t i = 0; i < end; ++i)
    if (jobs[i].outcome != Outcome::kOther) out.push_back(i);
  return out;
}

bool Bad(const JobPoint& j) { return j.Failed(); }
bool Missed(const JobPoint& j) { return j.outcome == Outcome::kMissed; }

// The state after runs[0..k]: 0 ok, 1 failed once, 2 failed 2+ in a row, 3
// missed once, 4 missed 2+ in a row (a streak of bad runs of either kind).
int StateAfter(const std::vector<JobPoint>& jobs, const std::vector<size_t>& runs, size_t k) {
  const JobPoint& last = jobs[runs[k]];
  if (!Bad(last)) return 0;
  const bool streak = k > 0 && Bad(jobs[runs[k - 1]]);
  return (Missed(last) ? 3 : 1) + (streak ? 1 : 0);
}

// P(the next run fails) and P(it is missed), from how this source's runs
// went after its current state (its last 180 runs), shrunk towards the
// fleet's rates: strongly for a source that has been fine (its rate is a
// small number, learned slowly), lightly once it is failing (a streak
// says a lot about the next run).
std::pair<double, double> NextRunRisk(const std::vector<JobPoint>& jobs, const std::vector<size_t>& runs,
                                      const FleetRates& fleet) {
  static constexpr double kFleetFail[kRunStates] = {0.03, 0.3, 0.6, 0.2, 0.3};
  static constexpr double kFleetMissed[kRunStates] = {0.01, 0.05, 0.1, 0.3, 0.6};
  static constexpr double kPriorWeight[kRunStates] = {20, 3, 3, 3, 3};
  const int now = runs.empty() ? 0 : StateAfter(jobs, runs, runs.size() - 1);
  double n = 0, failed = 0, missed = 0;
  for (size_t k = runs.size() > 180 ? runs.size() - 180 : 1; k < runs.size(); ++k) {
    if (StateAfter(jobs, runs, k - 1) != now) continue;
    n += 1;
    failed += IsFail(jobs[runs[k]]);
    missed += Missed(jobs[runs[k]]);
  }
  const double fleet_fail = (fleet.failed[now] + kFleetFail[now]) / (fleet.runs[now] + 1);
  const double fleet_missed = (fleet.missed[now] + kFleetMissed[now]) / (fleet.runs[now] + 1);
  const double w = kPriorWeight[now];
  // Never certain: a source that has not failed in its history can.
  auto bound = [](double p) { return std::clamp(p, kLeastRisk, 1 - kLeastRisk); };
  return {bound((failed + w * fleet_fail) / (n + w)), bound((missed + w * fleet_missed) / (n + w))};
}

std::optional<OverrunForecast> Overrun(const std::vector<JobPoint>& jobs, size_t end, int64_t as_of, int64_t interval,
                                       int64_t last_start, std::optional<double>* p_next) {
  std::vector<size_t> idx;
  for (size_t i = end; i-- > 0 && idx.size() < kTrendJobs;)
    if (jobs[i].outcome == Outcome::kSuccess && jobs[i].deadline_ns > jobs[i].start_ns) idx.push_back(i);
  if (idx.size() < kMinTrendJobs || interval <= 0) return std::nullopt;
  std::vector<double> x, y;
  for (size_t i : idx) {
    x.push_back(static_cast<double>(jobs[i].start_ns - as_of) / 1e9 / kDaySeconds);
    y.push_back(jobs[i].DurationSeconds());
  }
  const Line line = TheilSen(x, y);
  if (!line.ok) return std::nullopt;
  auto level = [&](int64_t t) { return std::max(line.At(static_cast<double>(t - as_of) / 1e9 / kDaySeconds), 1.0); };
  // A weekly rhythm (weekly fulls) as a factor per slot of the week, a
  // month-end one from the source's last month ends, and the spread of
  // what the line and the factors do not explain.
  std::vector<double> month_end;
  for (size_t i = end; i-- > 0 && month_end.size() < 4;) {
    if (static_cast<double>(as_of - jobs[i].start_ns) > 400 * kDaySeconds * 1e9) break;
    if (jobs[i].outcome == Outcome::kSuccess && LastDayOfMonth(jobs[i].start_ns))
      month_end.push_back(jobs[i].DurationSeconds() / level(jobs[i].start_ns));
  }
  const double month_end_factor = month_end.empty() ? 1.0 : Median(month_end);
  auto slot_factor = [&](int64_t t) {
    if (!month_end.empty() && LastDayOfMonth(t)) return month_end_factor;
    std::vector<double> r;
    for (size_t i : idx)
      if (SameWeekSlot(t, jobs[i].start_ns) && !LastDayOfMonth(jobs[i].start_ns))
        r.push_back(jobs[i].DurationSeconds() / level(jobs[i].start_ns));
    // Only a clear rhythm counts: a factor from a handful of jobs near 1
    // would fit their noise and understate the spread.
    const double f = r.size() >= 2 ? Median(std::move(r)) : 1.0;
    return std::fabs(std::log(f)) >= 0.25 ? f : 1.0;
  };
  auto slot_window = [&](int64_t t) {
    std::vector<double> w, all;
    for (size_t i : idx) {
      const double s = static_cast<double>(jobs[i].deadline_ns - jobs[i].start_ns) / 1e9;
      all.push_back(s);
      if (SameWeekSlot(t, jobs[i].start_ns)) w.push_back(s);
    }
    return Median(w.empty() ? std::move(all) : std::move(w));
  };
  std::vector<double> resid;
  for (size_t i : idx) resid.push_back(std::log(jobs[i].DurationSeconds() / (level(jobs[i].start_ns) * slot_factor(jobs[i].start_ns)) + 1e-9));
  const double sigma = std::max(MadSigma(resid), 0.05);
  const bool rising = line.slope_low > 0;
  // The run that overruns first: where the chance that some run up to it
  // has overrun reaches one half (the median of the first passage), so
  // the noise around the trend counts, not only the trend's crossing.
  double none_yet = 1;
  int ahead = 0;
  for (int k = 1; ahead < kOverrunHorizonRuns && k < 4 * kOverrunHorizonRuns; ++k) {
    const int64_t t = last_start + k * interval;
    if (t < as_of) continue;
    ++ahead;
    const double predicted = level(t) * slot_factor(t);
    const double window = slot_window(t);
    const double p = 1 - NormalCdf((std::log(window) - std::log(predicted)) / sigma);
    if (ahead == 1) *p_next = p;
    none_yet *= 1 - p;
    if (none_yet > 0.5) {
      if (!rising) break;  // flat or falling: only the next run is judged
      continue;
    }
    OverrunForecast f;
    f.expected_at_ns = t;
    f.runs_ahead = ahead;
    f.window_s = window;
    f.predicted_duration_s = predicted;
    f.low_s = predicted * std::exp(-1.645 * sigma);
    f.high_s = predicted * std::exp(1.645 * sigma);
    f.trend_s_per_day = line.slope;
    return f;
  }
  return std::nullopt;
}

std::optional<GrowthForecast> Growth(const std::vector<JobPoint>& jobs, size_t end, int64_t as_of, double quota) {
  if (quota <= 0) return std::nullopt;
  // Stored bytes: what successful backups wrote, summed (prune not counted).
  std::vector<double> x, y;
  double stored = 0;
  for (size_t i = 0; i < end; ++i) {
    if (jobs[i].outcome != Outcome::kSuccess && jobs[i].outcome != Outcome::kPartial) continue;
    stored += static_cast<double>(jobs[i].bytes_stored > 0 ? jobs[i].bytes_stored : jobs[i].bytes_added);
    x.push_back(static_cast<double>(jobs[i].start_ns - as_of) / 1e9 / kDaySeconds);
    y.push_back(stored);
  }
  GrowthForecast g;
  g.stored_bytes = stored;
  g.quota_bytes = quota;
  if (x.size() > kTrendJobs) {
    x.erase(x.begin(), x.end() - static_cast<std::ptrdiff_t>(kTrendJobs));
    y.erase(y.begin(), y.end() - static_cast<std::ptrdiff_t>(kTrendJobs));
  }
  const Line line = TheilSen(x, y);
  if (!line.ok) return g;
  g.bytes_per_day = line.slope;
  if (stored >= quota) g.expected_at_ns = as_of;
  else if (line.slope > 0) {
    const double days = (quota - stored) / line.slope;
    if (days < 3650) g.expected_at_ns = as_of + static_cast<int64_t>(days * kDaySeconds * 1e9);
  }
  return g;
}

}  // namespace

void FleetRates::Add(const std::vector<JobPoint>& jobs, size_t end) {
  const std::vector<size_t> ran = Runs(jobs, end);
  for (size_t k = 1; k < ran.size(); ++k) {
    const int state = StateAfter(jobs, ran, k - 1);
    runs[state] += 1;
    failed[state] += IsFail(jobs[ran[k]]);
    missed[state] += Missed(jobs[ran[k]]);
  }
}

Forecast ForecastSource(const std::vector<JobPoint>& jobs, size_t end, int64_t as_of_ns, const FleetRates& fleet,
                        double quota_bytes) {
  Forecast f;
  const std::vector<size_t> runs = Runs(jobs, end);
  std::tie(f.risk.p_fail, f.risk.p_missed) = NextRunRisk(jobs, runs, fleet);
  int64_t interval = 0;
  if (runs.size() >= 3) {
    std::vector<double> gaps;
    for (size_t k = runs.size() > 31 ? runs.size() - 31 : 1; k < runs.size(); ++k)
      gaps.push_back(static_cast<double>(jobs[runs[k]].start_ns - jobs[runs[k - 1]].start_ns));
    interval = static_cast<int64_t>(Median(std::move(gaps)));
  }
  if (!runs.empty() && interval > 0) {
    const int64_t last = jobs[runs.back()].start_ns;
    f.next_run_ns = last + interval;
    if (f.next_run_ns < as_of_ns) f.next_run_ns += (as_of_ns - f.next_run_ns + interval - 1) / interval * interval;
    f.overrun = Overrun(jobs, end, as_of_ns, interval, last, &f.risk.p_overrun);
  }
  f.growth = Growth(jobs, end, as_of_ns, quota_bytes);
  return f;
}

}  // namespace backspan::observatory::insight
