#include "observatory/insight/detector.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "observatory/insight/robust_stats.h"
#include "observatory/insight/wording.h"

namespace backspan::observatory::insight {
namespace {

constexpr int64_t kMinuteNs = 60'000'000'000;
constexpr int64_t kDayNs = 1440 * kMinuteNs;
constexpr int64_t kWeekNs = 7 * kDayNs;

// The baselines a job is judged against; it is unusual only if it is
// unusual against every one that has enough jobs (docs/insight.md).
enum Context { kUsual, kWeekday, kHour, kMonthEnd, kContexts };
constexpr const char* kContextNames[] = {"usual", "weekday", "hour", "month_end"};
constexpr size_t kContextSize[] = {30, 6, 10, 4};     // the most recent so many jobs
constexpr size_t kContextMinimum[] = {8, 1, 4, 1};    // fewer: the context says nothing
constexpr int64_t kContextReach[] = {400 * kDayNs, 10 * kWeekNs, 4 * kWeekNs, 400 * kDayNs};
constexpr size_t kScanLimit = 3000;                   // jobs looked back at, at most

// A number of a job, judged on a log scale: `offset` keeps zero finite and
// small values from looking wild; `sigma_floor` is the least spread assumed.
struct Metric {
  const char* name;
  double offset, sigma_floor;
  double (*value)(const JobPoint&);
};
double Duration(const JobPoint& j) { return j.DurationSeconds(); }
double Throughput(const JobPoint& j) { return static_cast<double>(j.bytes_total) / std::max(j.DurationSeconds(), 1.0); }
double BytesAdded(const JobPoint& j) { return static_cast<double>(j.bytes_added); }
double FilesChanged(const JobPoint& j) { return static_cast<double>(j.files_changed); }
double BytesTotal(const JobPoint& j) { return static_cast<double>(j.bytes_total); }
double FilesTotal(const JobPoint& j) { return static_cast<double>(j.files_total); }
constexpr double kMiB = 1024.0 * 1024;
const Metric kDuration{"duration_s", 1, 0.08, Duration};
const Metric kThroughput{"throughput_bytes_per_s", 1024, 0.08, Throughput};
const Metric kBytesAdded{"bytes_added", kMiB, 0.15, BytesAdded};
const Metric kFilesChanged{"files_changed", 10, 0.15, FilesChanged};
const Metric kBytesTotal{"bytes_total", kMiB, 0.03, BytesTotal};
const Metric kFilesTotal{"files_total", 10, 0.03, FilesTotal};


// Circular distance of two instants' positions in a period.
int64_t PhaseDistance(int64_t a, int64_t b, int64_t period) {
  int64_t d = ((a - b) % period + period) % period;
  return std::min(d, period - d);
}

struct Candidates {
  std::array<std::vector<size_t>, kContexts> of;
};

Candidates FindCandidates(const std::vector<JobPoint>& jobs, size_t i) {
  Candidates c;
  const int64_t t = jobs[i].start_ns;
  const bool month_end = LastDayOfMonth(t);
  // The time-of-day context is for sources that run more than once a day.
  bool subdaily = false;
  size_t scanned = 0;
  for (size_t k = i; k-- > 0 && scanned < kScanLimit; ++scanned) {
    const JobPoint& j = jobs[k];
    if (j.outcome != Outcome::kSuccess) continue;
    const int64_t dt = t - j.start_ns;
    if (dt > kContextReach[kUsual]) break;
    if (c.of[kUsual].size() < kContextSize[kUsual]) c.of[kUsual].push_back(k);
    if (c.of[kWeekday].size() < kContextSize[kWeekday] && dt <= kContextReach[kWeekday] &&
        PhaseDistance(t, j.start_ns, kWeekNs) <= 90 * kMinuteNs)
      c.of[kWeekday].push_back(k);
    if (c.of[kHour].size() < kContextSize[kHour] && dt <= kContextReach[kHour] &&
        PhaseDistance(t, j.start_ns, kDayNs) <= 90 * kMinuteNs)
      c.of[kHour].push_back(k);
    if (month_end && c.of[kMonthEnd].size() < kContextSize[kMonthEnd] && LastDayOfMonth(j.start_ns))
      c.of[kMonthEnd].push_back(k);
    auto done = [&](Context ctx) { return c.of[ctx].size() >= kContextSize[ctx] || dt > kContextReach[ctx]; };
    if (done(kUsual) && done(kWeekday) && done(kHour) && (!month_end || done(kMonthEnd))) break;
  }
  const auto& usual = c.of[kUsual];
  if (usual.size() >= 2) {
    const double span = static_cast<double>(jobs[usual.front()].start_ns - jobs[usual.back()].start_ns);
    subdaily = span / static_cast<double>(usual.size() - 1) < 20.0 * 3600e9;
  }
  if (!subdaily) c.of[kHour].clear();
  return c;
}

struct Judged {
  bool ok = false;
  double value = 0, expected = 0, low = 0, high = 0, z = 0;
  Context context = kUsual;
  int n = 0;
  double Ratio() const { return value / std::max(expected, 1e-9); }
  Evidence AsEvidence(const char* name) const { return {name, value, expected, low, high, Ratio(), z}; }
};

// Where jobs[i] stands against each context, on a log scale with the
// source's trend taken out; the most lenient context wins.
Judged JudgeMetric(const Metric& m, const std::vector<JobPoint>& jobs, size_t i, const Candidates& c) {
  Judged out;
  const auto& usual = c.of[kUsual];
  size_t reported = 0;
  for (size_t k : usual) reported += m.value(jobs[k]) > 0;
  if (usual.size() < kContextMinimum[kUsual] || reported * 2 < usual.size()) return out;
  const int64_t t = jobs[i].start_ns;
  auto log_of = [&](size_t k) { return std::log(std::max(m.value(jobs[k]), 0.0) + m.offset); };
  std::vector<double> days, logs;
  for (size_t k : usual) {
    days.push_back(static_cast<double>(jobs[k].start_ns - t) / 86400e9);
    logs.push_back(log_of(k));
  }
  // A trend counts only when most pairs agree on its sign.
  const double slope = SignificantSlope(days, logs);
  auto detrended = [&](size_t k) {
    return log_of(k) - slope * static_cast<double>(jobs[k].start_ns - t) / 86400e9;
  };
  std::vector<double> base;
  for (size_t k : usual) base.push_back(detrended(k));
  const double sigma0 = std::max(MadSigma(base), m.sigma_floor);
  const double x = log_of(i);
  // Each context's values; and for a month end that falls on a day with its
  // own rhythm (a weekly full), the two effects added on the log scale: the
  // same slot's jobs lifted by the month ends' usual uplift.
  std::vector<std::pair<Context, std::vector<double>>> contexts;
  for (int ctx = 0; ctx < kContexts; ++ctx) {
    if (c.of[ctx].size() < kContextMinimum[ctx]) continue;
    std::vector<double> v;
    for (size_t k : c.of[ctx]) v.push_back(detrended(k));
    contexts.emplace_back(static_cast<Context>(ctx), std::move(v));
  }
  if (!c.of[kMonthEnd].empty() && c.of[kWeekday].size() >= kContextMinimum[kWeekday]) {
    const double level = Median(base);
    std::vector<double> uplift, v;
    for (size_t k : c.of[kMonthEnd]) uplift.push_back(detrended(k) - level);
    const double u = Median(uplift);
    for (size_t k : c.of[kWeekday])
      if (!LastDayOfMonth(jobs[k].start_ns)) v.push_back(detrended(k) + u);
    if (!v.empty()) contexts.emplace_back(kMonthEnd, std::move(v));
  }
  double best = INFINITY;
  for (auto& [ctx, v] : contexts) {
    const double med = Median(v);
    const double sigma = v.size() >= 6 ? std::max(MadSigma(v), sigma0) : sigma0;
    const double z = (x - med) / sigma;
    if (std::fabs(z) >= best) continue;
    best = std::fabs(z);
    out.ok = true;
    out.z = z;
    out.context = ctx;
    out.n = static_cast<int>(v.size());
    out.value = std::max(m.value(jobs[i]), 0.0);
    out.expected = std::max(std::exp(med) - m.offset, 0.0);
    out.low = std::max(std::exp(med - 3 * sigma) - m.offset, 0.0);
    out.high = std::exp(med + 3 * sigma) - m.offset;
  }
  return out;
}

// The baseline jobs of a context, for the phases' usual durations.
std::vector<size_t> PhaseBaseline(const Candidates& c, Context ctx) {
  // A context of a job or two says little about phases: the usual one then.
  std::vector<size_t> out = c.of[ctx].size() >= 3 ? c.of[ctx] : c.of[kUsual];
  if (out.size() > 8) out.resize(8);
  return out;
}

struct PhaseFinding {
  std::string name;
  double seconds = 0, usual = 0, excess = 0;
  double usual_share = 0;  // its share of the baseline's phase time
};

// The phase that grew most against the baseline jobs' phases.
std::optional<PhaseFinding> GrownPhase(const std::vector<JobPoint>& jobs, size_t i, const std::vector<size_t>& baseline,
                                       const PhaseLookup& lookup) {
  if (!lookup) return std::nullopt;
  const auto mine = lookup(jobs[i]);
  if (mine.empty()) return std::nullopt;
  std::map<std::string, std::vector<double>> usual;
  size_t with_phases = 0;
  for (size_t k : baseline) {
    const auto theirs = lookup(jobs[k]);
    if (theirs.empty()) continue;
    ++with_phases;
    std::map<std::string, double> sum;
    for (const auto& [name, s] : theirs) sum[name] += s;
    for (const auto& [name, s] : sum) usual[name].push_back(s);
  }
  if (with_phases < 2) return std::nullopt;
  std::map<std::string, double> sum;
  for (const auto& [name, s] : mine) sum[name] += s;
  std::optional<PhaseFinding> best;
  double usual_total = 0;
  for (auto& [name, v] : usual) {
    v.resize(with_phases, 0.0);  // a phase missing from a job took no time there
    usual_total += Median(v);
  }
  for (const auto& [name, s] : sum) {
    std::vector<double> v = usual[name];
    v.resize(with_phases, 0.0);
    const double u = Median(v);
    if (!best || s - u > best->excess) best = PhaseFinding{name, s, u, s - u, usual_total > 0 ? u / usual_total : 0};
  }
  return best;
}

// The explained attributes that differ from the most common ones of the
// baseline jobs.
std::vector<AttributeChange> ChangedAttributes(const std::vector<JobPoint>& jobs, size_t i,
                                               const std::vector<size_t>& baseline, const AttributeLookup& lookup) {
  std::vector<AttributeChange> out;
  if (!lookup || baseline.empty()) return out;
  std::map<uint32_t, int> count;
  for (size_t k : baseline) count[jobs[k].attributes]++;
  const uint32_t usual = std::max_element(count.begin(), count.end(), [](auto& a, auto& b) { return a.second < b.second; })->first;
  if (usual == jobs[i].attributes) return out;
  const ExplainedAttributes& was = lookup(usual);
  const ExplainedAttributes& now = lookup(jobs[i].attributes);
  std::map<std::string, std::pair<std::string, std::string>> both;
  for (const auto& [k, v] : was) both[k].first = v;
  for (const auto& [k, v] : now) both[k].second = v;
  for (const auto& [k, fv] : both)
    if (fv.first != fv.second) out.push_back({k, fv.first, fv.second});
  return out;
}

bool Notable(const Judged& j) { return j.ok && std::fabs(j.z) >= 3 && (j.Ratio() >= 1.5 || j.Ratio() <= 0.67); }

}  // namespace

std::optional<Anomaly> JudgeJob(const std::vector<JobPoint>& jobs, size_t i, const PhaseLookup& phases,
                                const AttributeLookup& attributes) {
  if (i >= jobs.size() || jobs[i].outcome != Outcome::kSuccess) return std::nullopt;
  const Candidates c = FindCandidates(jobs, i);
  if (c.of[kUsual].size() < kContextMinimum[kUsual]) return std::nullopt;  // still learning
  // The first month end a source has is learned, not judged: month-end
  // spikes are common and nothing yet says whether this source has them.
  if (LastDayOfMonth(jobs[i].start_ns) && c.of[kMonthEnd].empty()) return std::nullopt;
  // Likewise a time of week not yet seen in the source's first week: its
  // weekly full, say, is learned.
  const int64_t known_for = jobs[i].start_ns - jobs[c.of[kUsual].back()].start_ns;
  if (c.of[kWeekday].empty() && known_for < kWeekNs + 90 * kMinuteNs) return std::nullopt;

  const Judged dur = JudgeMetric(kDuration, jobs, i, c);
  const Judged thr = JudgeMetric(kThroughput, jobs, i, c);
  const Judged added = JudgeMetric(kBytesAdded, jobs, i, c);
  const Judged changed = JudgeMetric(kFilesChanged, jobs, i, c);
  const Judged total = JudgeMetric(kBytesTotal, jobs, i, c);
  const Judged files = JudgeMetric(kFilesTotal, jobs, i, c);

  const double excess = dur.value - dur.expected;
  const bool slow = dur.ok && dur.z >= 5 && dur.Ratio() >= 2 && excess >= 60;
  const bool fast = dur.ok && dur.z <= -6 && dur.Ratio() <= 0.25 && -excess >= 60;
  const bool grew = (added.ok && added.z >= 5 && added.Ratio() >= 4 && added.value - added.expected >= 256 * kMiB) ||
                    (changed.ok && changed.z >= 5 && changed.Ratio() >= 4 && changed.value - changed.expected >= 1000);
  const bool shrank = (total.ok && total.z <= -6 && total.Ratio() <= 0.5) || (files.ok && files.z <= -6 && files.Ratio() <= 0.5);

  Anomaly a;
  a.job = i;
  std::optional<PhaseFinding> phase;
  if (slow) phase = GrownPhase(jobs, i, PhaseBaseline(c, dur.context), phases);
  if (grew || shrank) {
    a.kind = kAnomalyChange;
  } else if (slow && phase && phase->excess >= 0.6 * excess &&
             phase->excess >= (phase->usual_share + 0.15) * excess &&
             (phase->usual <= 0 || phase->seconds >= 2 * phase->usual)) {
    // One phase took most of the extra time, far beyond its usual share:
    // had every phase slowed alike, it would be no one phase's doing.
    a.kind = kAnomalyPhase;
  } else if (slow && thr.ok && thr.z <= -4 && thr.Ratio() <= 0.5) {
    a.kind = kAnomalyThroughput;
  } else if (slow || fast) {
    a.kind = kAnomalyDuration;
  } else {
    return std::nullopt;
  }

  // The deciding number first, then every other number out of its range.
  const Judged* lead = &dur;
  if (a.kind == kAnomalyChange) {
    lead = grew ? (added.ok && added.z >= 5 && added.Ratio() >= 4 ? &added : &changed)
                : (total.ok && total.z <= -6 ? &total : &files);
  } else if (a.kind == kAnomalyThroughput) {
    lead = &thr;
  }
  const std::pair<const Judged*, const char*> all[] = {{&dur, kDuration.name},         {&thr, kThroughput.name},
                                                       {&added, kBytesAdded.name},     {&changed, kFilesChanged.name},
                                                       {&total, kBytesTotal.name},     {&files, kFilesTotal.name}};
  for (const auto& [j, name] : all)
    if (j == lead) a.evidence.insert(a.evidence.begin(), j->AsEvidence(name));
    else if (Notable(*j)) a.evidence.push_back(j->AsEvidence(name));
  if (phase && phase->excess > 0) {
    Evidence e{"phase:" + phase->name + "_s", phase->seconds, phase->usual, 0, 0, 0, 0};
    e.ratio = phase->usual > 0 ? phase->seconds / phase->usual : 0;
    a.evidence.push_back(e);
  }
  a.context = kContextNames[lead->context];
  a.baseline_jobs = lead->n;
  a.score = std::fabs(lead->z);
  const double r = lead->Ratio();
  a.severity = r >= 4 || r <= 0.25 ? "critical" : "warning";
  a.changed = ChangedAttributes(jobs, i, c.of[kUsual], attributes);
  a.message = DescribeAnomaly(a, jobs[i].start_ns);
  return a;
}

std::vector<Anomaly> FailureBursts(const std::vector<JobPoint>& jobs) {
  BurstScan scan;
  return FailureBursts(jobs, 0, &scan);
}

std::vector<Anomaly> FailureBursts(const std::vector<JobPoint>& jobs, size_t from, BurstScan* scan) {
  // The last w runs (w from 3 to 20) are tested against the source's usual
  // rate, as a Beta distribution over it: the 90 runs before them (less
  // earlier incidents) on a prior worth 10 runs at 3 %, so a rate known
  // from little history counts as the uncertain thing it is. The smallest
  // tail probability, times the number of windows tried, must be below
  // 1e-3.
  constexpr size_t kShortest = 3, kLongest = 20, kPrior = 90;
  constexpr double kSignificance = 1e-3, kPriorRate = 0.03, kPriorRuns = 10;
  constexpr uint32_t kNone = BurstScan::kNone;
  auto& runs = scan->runs;
  auto& incident_by = scan->incident_by;
  auto& armed_at = scan->armed;
  // Forget what the scan knew from the first run at or after `from` on,
  // including the incidents those runs marked on earlier runs.
  const size_t first = static_cast<size_t>(std::lower_bound(runs.begin(), runs.end(), from) - runs.begin());
  runs.resize(first);
  incident_by.resize(first);
  for (size_t k = first >= kLongest ? first - kLongest : 0; k < first; ++k)
    if (incident_by[k] != kNone && incident_by[k] >= first) incident_by[k] = kNone;
  armed_at.resize(first + 1, 1);
  for (size_t i = from; i < jobs.size(); ++i)
    if (jobs[i].outcome != Outcome::kOther) runs.push_back(static_cast<uint32_t>(i));
  incident_by.resize(runs.size(), kNone);
  armed_at.resize(runs.size() + 1);
  auto incident = [&](size_t k) { return incident_by[k] != kNone; };
  bool armed = armed_at[first] != 0;
  std::vector<Anomaly> out;
  for (size_t r = first; r < runs.size(); armed_at[++r] = armed) {
    if (!armed) {
      // Re-armed once the source has run cleanly again: at most one failure
      // in its last ten runs.
      int recent = 0;
      for (size_t k = r + 1 >= 10 ? r + 1 - 10 : 0; k <= r; ++k) recent += jobs[runs[k]].Failed();
      armed = recent <= 1 && r >= 9;
      if (!armed) incident_by[r] = static_cast<uint32_t>(r);
      continue;
    }
    if (!jobs[runs[r]].Failed()) continue;
    double best_p = 1;
    int best_failed = 0, best_n = 0;
    double best_rate = 0, best_prior_runs = 0;
    int failed = 0;
    // The prior runs [from - 90, from) of the window [from, r], kept as the
    // window grows backwards one run at a time.
    int prior_failed = 0, prior_runs = 0;
    auto count = [&](size_t k, int sign) {
      if (incident(k)) return;
      prior_failed += sign * jobs[runs[k]].Failed();
      prior_runs += sign;
    };
    for (size_t k = r >= kPrior ? r - kPrior : 0; k < r; ++k) count(k, +1);
    for (size_t w = 1; w <= kLongest && w <= r + 1; ++w) {
      const size_t start = r + 1 - w;
      failed += jobs[runs[start]].Failed();
      if (w > 1) {
        count(start, -1);  // now in the window
        if (start >= kPrior) count(start - kPrior, +1);
      }
      if (w < kShortest) continue;
      const double alpha = prior_failed + kPriorRate * kPriorRuns;
      const double beta = (prior_runs - prior_failed) + (1 - kPriorRate) * kPriorRuns;
      const double rate = alpha / (alpha + beta);
      const double n = prior_runs + kPriorRuns;
      const double p = BetaBinomialTail(static_cast<int>(w), failed, alpha, beta);
      if (p < best_p) {
        best_p = p;
        best_failed = failed;
        best_n = static_cast<int>(w);
        best_rate = rate;
        best_prior_runs = n - kPriorRuns;
      }
    }
    const double p = best_p * static_cast<double>(kLongest - kShortest + 1);
    if (p >= kSignificance) continue;
    armed = false;
    // The earliest run to mark a run keeps it: forgetting a later one must
    // not forget that an earlier incident held it.
    for (size_t k = r + 1 - static_cast<size_t>(best_n); k <= r; ++k)
      if (!incident(k)) incident_by[k] = static_cast<uint32_t>(r);
    Anomaly a;
    a.kind = kAnomalyFailures;
    a.job = runs[r];
    a.score = -std::log10(std::max(p, 1e-300));
    a.severity = best_failed >= 5 ? "critical" : "warning";
    a.context = kContextNames[kUsual];
    a.baseline_jobs = static_cast<int>(best_prior_runs);
    a.evidence.push_back({"failed_runs", static_cast<double>(best_failed), best_rate * best_n, 0,
                          static_cast<double>(best_n), best_failed / std::max(best_rate * best_n, 1e-9), 0});
    a.message = DescribeFailures(best_failed, best_n, best_rate);
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace backspan::observatory::insight
