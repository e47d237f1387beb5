// Insight below HTTP (docs/insight.md): the robust statistics, the
// detector on seasonal histories that must stay quiet and on each kind of
// anomaly, the forecasts, and the engine's independence from arrival order.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "observatory/insight/anomaly_codec.h"
#include "observatory/insight/detector.h"
#include "observatory/insight/forecaster.h"
#include "observatory/insight/robust_stats.h"
#include "observatory/insight/wording.h"

namespace backspan::observatory::insight {
namespace {

constexpr int64_t kSecond = 1'000'000'000, kMinute = 60 * kSecond, kHour = 60 * kMinute, kDay = 24 * kHour;
constexpr int64_t kMonday = 1767574800LL * kSecond;  // 2026-01-05T01:00:00Z, a Monday

// A daily source: `duration_s` and `bytes_total` with a little noise,
// ~1 % of its data new each day.
std::vector<JobPoint> DailyHistory(int days, double duration_s, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0, 0.05);
  std::vector<JobPoint> jobs;
  for (int d = 0; d < days; ++d) {
    JobPoint j;
    j.start_ns = kMonday + d * kDay + static_cast<int64_t>(noise(rng) * 600) * kSecond;
    j.end_ns = j.start_ns + static_cast<int64_t>(duration_s * std::exp(noise(rng)) * 1e9);
    j.bytes_total = static_cast<int64_t>(50e9 * std::exp(noise(rng) * 0.1));
    j.bytes_added = static_cast<int64_t>(500e6 * std::exp(noise(rng)));
    j.files_total = 200'000;
    j.files_changed = static_cast<int64_t>(800 * std::exp(noise(rng)));
    j.outcome = Outcome::kSuccess;
    j.span_id[0] = static_cast<uint8_t>(d);
    j.span_id[1] = static_cast<uint8_t>(d >> 8);
    jobs.push_back(j);
  }
  return jobs;
}

std::vector<Anomaly> JudgeAll(const std::vector<JobPoint>& jobs, const PhaseLookup& phases = nullptr) {
  static const ExplainedAttributes kNone;
  const AttributeLookup attributes = [](uint32_t) -> const ExplainedAttributes& { return kNone; };
  std::vector<Anomaly> out;
  for (size_t i = 0; i < jobs.size(); ++i)
    if (auto a = JudgeJob(jobs, i, phases, attributes)) out.push_back(*a);
  for (auto& a : FailureBursts(jobs)) out.push_back(a);
  return out;
}

void Stretch(JobPoint& j, double factor) {
  j.end_ns = j.start_ns + static_cast<int64_t>(static_cast<double>(j.end_ns - j.start_ns) * factor);
}

TEST(RobustStatsTest, SignificantSlopeIsTheilSensWhenItsIntervalExcludesZero) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0, 1);
  int trends = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    const int n = 3 + trial % 40;
    const double slope = (trial % 3 == 0) ? 0 : 0.05 * (trial % 7 - 3);
    std::vector<double> x, y;
    for (int i = 0; i < n; ++i) {
      x.push_back(trial % 5 == 0 ? i / 2 : i);  // some equal x
      y.push_back(slope * x.back() + noise(rng));
    }
    const Line line = TheilSen(x, y);
    const double expected = line.ok && (line.slope_low > 0 || line.slope_high < 0) ? line.slope : 0;
    trends += expected != 0;
    ASSERT_EQ(SignificantSlope(x, y), expected) << "trial " << trial;
  }
  EXPECT_GT(trends, 100);  // both branches were taken
  EXPECT_LT(trends, 1900);
}

TEST(RobustStatsTest, TailsSummedTermByTermInLogSpaceAgree) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> unit(0.001, 0.999), shape(0.05, 60);
  for (int trial = 0; trial < 3000; ++trial) {
    const int n = 1 + trial % 25, k = static_cast<int>(rng() % (n + 1));
    const double p = unit(rng), alpha = shape(rng), beta = shape(rng);
    double binomial = 0, beta_binomial = 0;
    auto log_beta = [](double a, double b) { return std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b); };
    for (int i = k; i <= n; ++i) {
      const double choose = std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0);
      binomial += std::exp(choose + i * std::log(p) + (n - i) * std::log1p(-p));
      beta_binomial += std::exp(choose + log_beta(i + alpha, n - i + beta) - log_beta(alpha, beta));
    }
    if (k == 0) binomial = beta_binomial = 1;
    ASSERT_NEAR(BinomialTail(n, k, p), std::min(binomial, 1.0), 1e-9 * std::max(binomial, 1e-300) + 1e-300)
        << n << " " << k << " " << p;
    ASSERT_NEAR(BetaBinomialTail(n, k, alpha, beta), std::min(beta_binomial, 1.0), 1e-9 * beta_binomial + 1e-300)
        << n << " " << k << " " << alpha << " " << beta;
  }
}

TEST(RobustStatsTest, OneBadValueCannotMoveThem) {
  EXPECT_DOUBLE_EQ(Median({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(Median({4, 1, 3, 2}), 2.5);
  EXPECT_NEAR(MadSigma({1, 2, 3, 4, 1000}), 1.4826, 1e-9);
  std::vector<double> x, y;
  for (int i = 0; i < 20; ++i) {
    x.push_back(i);
    y.push_back(3 + 2 * i + (i == 7 ? 500 : 0) + (i == 13 ? -300 : 0));
  }
  const Line line = TheilSen(x, y);
  ASSERT_TRUE(line.ok);
  EXPECT_NEAR(line.slope, 2, 1e-9);
  EXPECT_NEAR(line.At(10), 23, 1e-9);
  EXPECT_GT(line.slope_low, 1.5);  // a trend despite them
  EXPECT_LT(line.slope_high, 2.5);
  EXPECT_NEAR(BinomialTail(10, 0, 0.3), 1, 1e-12);
  EXPECT_NEAR(BinomialTail(3, 3, 0.5), 0.125, 1e-12);
  // Beta(1, 1): every count of 3 trials is equally likely.
  EXPECT_NEAR(BetaBinomialTail(3, 3, 1, 1), 0.25, 1e-12);
  EXPECT_NEAR(BetaBinomialTail(3, 2, 1, 1), 0.5, 1e-12);
  EXPECT_NEAR(BetaBinomialTail(3, 2, 1e6 * 0.5, 1e6 * 0.5), 0.5, 1e-4);  // a certain rate: the binomial
  EXPECT_NEAR(NormalCdf(1.645), 0.95, 1e-3);
}

TEST(DetectorTest, SeasonalityRaisesNoAlarm) {
  // Weekly fulls on Sundays, month-end spikes, steady growth, and noise:
  // half a year of it is judged without one anomaly.
  auto jobs = DailyHistory(180, 1200, 1);
  for (size_t d = 0; d < jobs.size(); ++d) {
    JobPoint& j = jobs[d];
    Stretch(j, 1.0 + 0.004 * static_cast<double>(d));  // grows ~0.4 %/day
    if (CivilDayOf(j.start_ns).weekday == 0) {
      Stretch(j, 5);
      j.bytes_added *= 12;
      j.files_changed *= 30;
    }
    const CivilDay c = CivilDayOf(j.start_ns);
    if (c.day == DaysInMonth(c.year, c.month)) {
      Stretch(j, 3);
      j.bytes_added *= 8;
    }
  }
  const auto found = JudgeAll(jobs);
  for (const auto& a : found) ADD_FAILURE() << "job " << a.job << ": " << a.kind << ": " << a.message;
}

TEST(DetectorTest, ASlowFirstBackupIsLearnedNotFlagged) {
  auto jobs = DailyHistory(40, 600, 2);
  Stretch(jobs[0], 20);
  jobs[0].bytes_added = jobs[0].bytes_total;
  EXPECT_TRUE(JudgeAll(jobs).empty());
}

TEST(DetectorTest, EachKindIsFoundAndExplained) {
  auto jobs = DailyHistory(60, 1200, 3);
  const size_t slow = 40, emptied = 45, mass = 50, phase_job = 55;
  // Slower with the same bytes: throughput collapsed.
  Stretch(jobs[slow], 4);
  jobs[emptied].bytes_total /= 20;
  jobs[emptied].files_total /= 20;
  jobs[mass].bytes_added *= 30;
  jobs[mass].files_changed *= 40;
  Stretch(jobs[phase_job], 3);
  const PhaseLookup phases = [&](const JobPoint& j) -> std::vector<std::pair<std::string, double>> {
    const double d = j.DurationSeconds();
    if (j.span_id == jobs[phase_job].span_id) return {{"scan", d - 300}, {"upload", 300}};
    return {{"scan", d * 0.2}, {"upload", d * 0.8}};
  };
  // The throughput job has no phases recorded: the lookup knows only the others.
  const auto found = JudgeAll(jobs, phases);
  std::map<size_t, Anomaly> by_job;
  for (const auto& a : found) by_job[a.job] = a;
  ASSERT_EQ(by_job.size(), 4u) << found.size();
  EXPECT_EQ(by_job[emptied].kind, kAnomalyChange);
  EXPECT_EQ(by_job[mass].kind, kAnomalyChange);
  EXPECT_NE(by_job[mass].message.find("files changed"), std::string::npos) << by_job[mass].message;
  EXPECT_EQ(by_job[phase_job].kind, kAnomalyPhase);
  EXPECT_NE(by_job[phase_job].message.find("`scan`"), std::string::npos) << by_job[phase_job].message;
  EXPECT_NE(by_job[phase_job].message.find("slower"), std::string::npos) << by_job[phase_job].message;
  // The slow job: its phases grew alike, so it is no single phase's doing.
  EXPECT_TRUE(by_job[slow].kind == kAnomalyThroughput) << by_job[slow].kind << ": " << by_job[slow].message;
  EXPECT_EQ(by_job[slow].evidence.front().name, "throughput_bytes_per_s");
  EXPECT_NEAR(by_job[slow].evidence.front().ratio, 0.25, 0.05);
}

TEST(DetectorTest, ADurationAnomalyWithoutBytesAndAnImplausiblyFastRun) {
  auto jobs = DailyHistory(40, 1800, 4);
  for (auto& j : jobs) j.bytes_total = j.bytes_added = j.files_total = j.files_changed = 0;
  Stretch(jobs[30], 3.5);
  Stretch(jobs[35], 0.05);
  const auto found = JudgeAll(jobs);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].kind, kAnomalyDuration);
  EXPECT_EQ(found[0].job, 30u);
  EXPECT_NE(found[0].message.find("slower than usual for a"), std::string::npos) << found[0].message;
  EXPECT_EQ(found[1].kind, kAnomalyDuration);
  EXPECT_EQ(found[1].job, 35u);
  EXPECT_EQ(found[1].severity, "critical");
}

TEST(DetectorTest, AFailureBurstIsOneAnomalyAndAnIsolatedFailureNone) {
  // A broken source: every run fails until it is fixed.
  auto broken = DailyHistory(60, 600, 13);
  for (size_t d = 40; d < 44; ++d) broken[d].outcome = Outcome::kFailed;
  const auto fixed_later = JudgeAll(broken);
  ASSERT_EQ(fixed_later.size(), 1u);
  EXPECT_EQ(fixed_later[0].job, 42u);  // the third failure in a row
  auto jobs = DailyHistory(120, 600, 5);
  jobs[30].outcome = Outcome::kFailed;  // one failure: nothing unusual
  for (size_t d : {90, 91, 93, 94, 96}) jobs[d].outcome = d == 93 ? Outcome::kMissed : Outcome::kFailed;
  const auto found = JudgeAll(jobs);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].kind, kAnomalyFailures);
  EXPECT_EQ(found[0].job, 93u);  // three of the last four: significant there
  EXPECT_NE(found[0].message.find("3 of the last 4 runs"), std::string::npos) << found[0].message;
}

TEST(DetectorTest, FailureBurstsScannedFromWhereJobsChangedEqualAWholeScan) {
  // Jobs arrive out of order and in batches; each batch is scanned from
  // the first index it changed, as the engine does.
  for (uint32_t seed = 1; seed <= 100; ++seed) {
    std::mt19937 rng(seed);
    auto all = DailyHistory(300, 600, seed);
    std::bernoulli_distribution fails(seed % 4 == 0 ? 0.3 : 0.08);
    for (auto& j : all) j.outcome = fails(rng) ? (rng() % 5 == 0 ? Outcome::kMissed : Outcome::kFailed) : j.outcome;
    for (size_t d = 100 + seed; d < 110 + seed; ++d) all[d].outcome = Outcome::kFailed;  // a burst
    std::vector<size_t> order(all.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    // Mostly in order, with stragglers.
    for (size_t i = 0; i + 1 < order.size(); ++i)
      if (rng() % 3 == 0) std::swap(order[i], order[std::min(order.size() - 1, i + 1 + rng() % 12)]);
    std::vector<JobPoint> jobs;
    BurstScan scan;
    std::map<std::pair<int64_t, int>, std::string> found;  // (start, kind) of each burst's run
    size_t next = 0;
    while (next < order.size()) {
      const size_t batch = 1 + rng() % 8;
      size_t from = SIZE_MAX;
      for (size_t b = 0; b < batch && next < order.size(); ++b, ++next) {
        const JobPoint& p = all[order[next]];
        const size_t at = static_cast<size_t>(std::lower_bound(jobs.begin(), jobs.end(), p) - jobs.begin());
        jobs.insert(jobs.begin() + static_cast<std::ptrdiff_t>(at), p);
        from = std::min(from, at);
      }
      for (auto it = found.begin(); it != found.end();)
        it = it->first.first >= jobs[from].start_ns ? found.erase(it) : std::next(it);
      for (const auto& a : FailureBursts(jobs, from, &scan))
        found[{jobs[a.job].start_ns, 0}] = a.message + " " + std::to_string(a.score);
    }
    std::map<std::pair<int64_t, int>, std::string> whole;
    for (const auto& a : FailureBursts(jobs)) whole[{jobs[a.job].start_ns, 0}] = a.message + " " + std::to_string(a.score);
    EXPECT_EQ(found, whole) << "seed " << seed;
    EXPECT_FALSE(whole.empty()) << "seed " << seed;
  }
}

TEST(DetectorTest, JudgedOnlyAgainstEarlierJobs) {
  // What comes after a job cannot change its verdict.
  auto jobs = DailyHistory(60, 900, 6);
  Stretch(jobs[40], 5);
  auto before = JudgeAll(std::vector<JobPoint>(jobs.begin(), jobs.begin() + 41));
  for (size_t d = 41; d < jobs.size(); ++d) Stretch(jobs[d], 5);  // the source is slow from now on
  auto after = JudgeAll(jobs);
  ASSERT_EQ(before.size(), 1u);
  ASSERT_FALSE(after.empty());
  EXPECT_EQ(after[0].job, 40u);
  EXPECT_EQ(after[0].message, before[0].message);
}

TEST(ForecasterTest, ADriftingSourceIsForecastToOverrunItsWindow) {
  // 20 min growing 1 min a day, in a 3 h window: it passes 180 min after
  // 160 days; at day 140 that is ~20 runs ahead.
  auto jobs = DailyHistory(140, 1200, 7);
  for (size_t d = 0; d < jobs.size(); ++d) {
    JobPoint& j = jobs[d];
    j.end_ns = j.start_ns + static_cast<int64_t>((1200 + 60.0 * static_cast<double>(d)) * 1e9);
    j.deadline_ns = kMonday + static_cast<int64_t>(d) * kDay + 3 * kHour;
  }
  const int64_t as_of = jobs.back().start_ns + kHour * 12;
  const Forecast f = ForecastSource(jobs, jobs.size(), as_of, FleetRates{}, 0);
  ASSERT_TRUE(f.overrun.has_value());
  EXPECT_GE(f.overrun->runs_ahead, 12);  // noise makes the first overrun come before the trend crosses
  EXPECT_LE(f.overrun->runs_ahead, 21);
  EXPECT_NEAR(f.overrun->window_s, 3 * 3600, 700);
  EXPECT_GT(f.overrun->high_s, f.overrun->window_s);
  EXPECT_LT(f.overrun->low_s, f.overrun->predicted_duration_s);
  EXPECT_NEAR(f.overrun->trend_s_per_day, 60, 5);
  EXPECT_GT(f.next_run_ns, as_of);
  ASSERT_TRUE(f.risk.p_overrun.has_value());
  EXPECT_LT(*f.risk.p_overrun, 0.05);

  // Flat in the same window: no overrun.
  auto flat = DailyHistory(140, 1200, 8);
  for (size_t d = 0; d < flat.size(); ++d) flat[d].deadline_ns = kMonday + static_cast<int64_t>(d) * kDay + 3 * kHour;
  EXPECT_FALSE(ForecastSource(flat, flat.size(), as_of, FleetRates{}, 0).overrun.has_value());
}

TEST(ForecasterTest, AsOfReadsOnlyEarlierJobs) {
  auto jobs = DailyHistory(100, 600, 9);
  for (size_t d = 60; d < jobs.size(); ++d) jobs[d].outcome = Outcome::kFailed;
  const int64_t day60 = jobs[60].start_ns;
  const Forecast then = ForecastSource(jobs, 60, day60, FleetRates{}, 0);
  const Forecast now = ForecastSource(jobs, jobs.size(), jobs.back().start_ns + kHour, FleetRates{}, 0);
  EXPECT_LT(then.risk.p_fail, 0.1);
  EXPECT_GT(now.risk.p_fail, 0.8);
}

TEST(ForecasterTest, RiskIsCalibratedOnASourceThatFailsOneRunInFive) {
  std::mt19937 rng(10);
  std::bernoulli_distribution fails(0.2);
  auto jobs = DailyHistory(400, 600, 11);
  for (auto& j : jobs) j.outcome = fails(rng) ? Outcome::kFailed : Outcome::kSuccess;
  FleetRates fleet;
  fleet.Add(jobs, jobs.size());
  double sum = 0;
  int n = 0;
  for (size_t end = 200; end < jobs.size(); end += 10, ++n)
    sum += ForecastSource(jobs, end, jobs[end].start_ns, fleet, 0).risk.p_fail;
  EXPECT_NEAR(sum / n, 0.2, 0.06);
}

TEST(ForecasterTest, GrowthReachesTheQuota) {
  auto jobs = DailyHistory(60, 600, 12);
  for (auto& j : jobs) j.bytes_stored = 1'000'000'000;  // 1 GB a day
  const int64_t as_of = jobs.back().start_ns + kHour;
  const Forecast f = ForecastSource(jobs, jobs.size(), as_of, FleetRates{}, 100e9);
  ASSERT_TRUE(f.growth.has_value());
  EXPECT_NEAR(f.growth->stored_bytes, 60e9, 1);
  EXPECT_NEAR(f.growth->bytes_per_day, 1e9, 0.05e9);
  EXPECT_NEAR(static_cast<double>(f.growth->expected_at_ns - as_of) / kDay, 40, 2);
  EXPECT_FALSE(ForecastSource(jobs, jobs.size(), as_of, FleetRates{}, 0).growth.has_value());
}

TEST(AnomalyCodecTest, RecordsRoundTripExactly) {
  AnomalyRecord r;
  r.id = "00112233aabbccdd-duration";
  r.source_key = "host-1\x1f/srv \"quoted\"";
  r.trace_id[3] = 0xab;
  r.span_id[7] = 0x01;
  r.time_ns = 1767574800123456789;
  r.anomaly.kind = kAnomalyDuration;
  r.anomaly.score = 0.1 + 0.2;  // not a short decimal
  r.anomaly.severity = "critical";
  r.anomaly.message = "took 4× its usual time";
  r.anomaly.context = "weekday";
  r.anomaly.baseline_jobs = 6;
  r.anomaly.evidence = {{"duration_s", 4065, 1200.5, 860, HUGE_VAL, 3.3875, 31.2}};
  r.anomaly.changed = {{"service.version", "0.9.0", "1.0.0"}};
  auto back = DecodeAnomalies(EncodeAnomalies({r, r}));
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->size(), 2u);
  const AnomalyRecord& b = (*back)[1];
  EXPECT_EQ(b.id, r.id);
  EXPECT_EQ(b.source_key, r.source_key);
  EXPECT_EQ(b.trace_id, r.trace_id);
  EXPECT_EQ(b.span_id, r.span_id);
  EXPECT_EQ(b.time_ns, r.time_ns);
  EXPECT_EQ(b.anomaly.score, r.anomaly.score);
  EXPECT_EQ(b.anomaly.evidence, r.anomaly.evidence);
  EXPECT_EQ(b.anomaly.changed, r.anomaly.changed);
  EXPECT_EQ(b.anomaly.message, r.anomaly.message);
  EXPECT_EQ(b.anomaly.context, r.anomaly.context);
  EXPECT_EQ(b.anomaly.baseline_jobs, r.anomaly.baseline_jobs);
  EXPECT_FALSE(DecodeAnomalies("{}").ok());
  EXPECT_FALSE(DecodeAnomalies("[{\"id\": 1}]").ok());
  EXPECT_FALSE(DecodeAnomalies("[").ok());
}

TEST(WordingTest, PlainWords) {
  EXPECT_EQ(FormatSeconds(41 * 60), "41 min");
  EXPECT_EQ(FormatSeconds(35), "35 s");
  EXPECT_EQ(FormatBytes(48.0 * (1ull << 30)), "48 GiB");
  const CivilDay d = CivilDayOf(kMonday);
  EXPECT_EQ(d.weekday, 1);
  EXPECT_EQ(d.year, 2026);
  EXPECT_EQ(DaysInMonth(2028, 2), 29);
}

}  // namespace
}  // namespace backspan::observatory::insight
