#include "observatory/insight/insight_engine.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sys/resource.h>
#include <unistd.h>

#include "observatory/insight/phase_reader.h"

namespace backspan::observatory::insight {
namespace {

// Where a job of `start` and `span` goes among jobs in judging order.
size_t PositionOf(const std::vector<JobPoint>& jobs, const JobPoint& p) {
  return static_cast<size_t>(std::lower_bound(jobs.begin(), jobs.end(), p) - jobs.begin());
}

// The jobs of `jobs` that started before `as_of`.
size_t CountBefore(const std::vector<JobPoint>& jobs, int64_t as_of) {
  return static_cast<size_t>(std::lower_bound(jobs.begin(), jobs.end(), as_of,
                                              [](const JobPoint& j, int64_t t) { return j.start_ns < t; }) -
                             jobs.begin());
}

constexpr size_t kPhaseCacheEntries = 50'000;
// Jobs of replicas reach each other within a second or so (docs/observatory.md).
constexpr std::chrono::seconds kSettleWithReplicas{2};

// Whether two anomalies say the same (`job` is an index into one
// process's memory: not part of what an anomaly says).
bool Same(const AnomalyRecord& a, const AnomalyRecord& b) {
  const Anomaly &x = a.anomaly, &y = b.anomaly;
  return a.id == b.id && a.source_key == b.source_key && a.trace_id == b.trace_id && a.span_id == b.span_id &&
         a.time_ns == b.time_ns && x.kind == y.kind && x.score == y.score && x.severity == y.severity &&
         x.message == y.message && x.context == y.context && x.baseline_jobs == y.baseline_jobs &&
         x.evidence == y.evidence && x.changed == y.changed;
}

bool ByTime(const AnomalyRecord& a, const AnomalyRecord& b) {
  return a.time_ns != b.time_ns ? a.time_ns < b.time_ns : a.id < b.id;
}

}  // namespace

InsightEngine::InsightEngine(SpanStore* store, double quota_bytes)
    : store_(store),
      quota_bytes_(quota_bytes),
      settle_(store->Shared() ? Clock::duration(kSettleWithReplicas) : Clock::duration::zero()) {}

InsightEngine::~InsightEngine() { Stop(); }

void InsightEngine::Stop() {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void InsightEngine::Start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
}

std::optional<ObservedJob> InsightEngine::Read(const JobRecord& job) {
  if (!IsInsightJob(job)) return std::nullopt;
  ObservedJob out;
  out.source_key = job.source_key;
  out.point = PointOf(job, &out.attributes);
  return out;
}

void InsightEngine::Observe(std::vector<ObservedJob> jobs) {
  // Only the queue's lock: ingest never waits for judging.
  if (jobs.empty()) return;
  {
    const Clock::time_point now = Clock::now();
    std::lock_guard<std::mutex> lock(queue_mu_);
    for (auto& j : jobs) queue_.emplace_back(now, std::move(j));
    in_flight_ += static_cast<int64_t>(jobs.size());
  }
  wake_.notify_one();
}

InsightStatus InsightEngine::status() const {
  InsightStatus s;
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    s.loaded = loaded_;
    s.pending = in_flight_;
  }
  std::lock_guard<std::mutex> lock(mu_);
  s.jobs = jobs_;
  s.judged = judged_;
  s.judging = judging_;
  s.sources = static_cast<int64_t>(sources_.size());
  for (const auto& [key, source] : sources_) s.anomalies += static_cast<int64_t>(source.anomalies.size());
  return s;
}

bool InsightEngine::WaitIdle(int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(queue_mu_);
  return idle_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return loaded_ && in_flight_ == 0; });
}

uint32_t InsightEngine::Intern(ExplainedAttributes attributes) {
  auto it = attribute_ids_.find(attributes);
  if (it != attribute_ids_.end()) return it->second;
  const uint32_t id = static_cast<uint32_t>(attributes_.size());
  attributes_.push_back(attributes);
  attribute_ids_.emplace(std::move(attributes), id);
  return id;
}

Status InsightEngine::LoadStore() {
  JobQuery q;
  q.limit = 1000;
  std::unordered_map<std::string, std::vector<JobPoint>> loaded;
  ExplainedAttributes attributes;
  while (!stopping()) {
    auto page = store_->ListJobs(q, Scope::All());
    if (!page.ok()) return page.status();
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& job : page->jobs) {
      if (!IsInsightJob(job)) continue;
      JobPoint p = PointOf(job, &attributes);
      p.attributes = Intern(attributes);
      loaded[job.source_key].push_back(p);
    }
    if (!page->more || page->jobs.empty()) break;
    q.before_start_ns = page->jobs.back().start_ns;
    q.before_id = page->jobs.back().id;
  }
  for (auto& [key, points] : loaded) {
    if (stopping()) break;
    std::lock_guard<std::mutex> lock(mu_);
    Apply(key, std::move(points));
  }
  return Status::Ok();
}

bool InsightEngine::stopping() const {
  std::lock_guard<std::mutex> lock(queue_mu_);
  return stop_;
}

void InsightEngine::Loop() {
  // Judging is background work: at nice 10 it gets about a tenth of a
  // core that ingest and queries want, and all of an idle one (not
  // SCHED_IDLE: on a busy machine that would starve it).
  setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);
  {
    std::lock_guard<std::mutex> lock(mu_);
    judging_ = store_->Leads();
  }
  if (Status s = LoadStore(); !s.ok())
    std::fprintf(stderr, "insight: the store's jobs could not be read (%s); judging new jobs only\n", s.message().c_str());
  {
    std::lock_guard<std::mutex> lock(mu_);
    live_ = true;
  }
  Tell();  // what changed while loading, for the replicas that do not judge
  std::unique_lock<std::mutex> queue_lock(queue_mu_);
  loaded_ = true;
  while (true) {
    if (in_flight_ == 0) idle_.notify_all();
    // Leadership is looked at every second, queue or not.
    const Clock::time_point now = Clock::now();
    Clock::time_point until = now + std::chrono::seconds(1);
    if (!queue_.empty()) until = std::min(until, queue_.front().first + settle_);
    wake_.wait_until(queue_lock, until, [&] { return stop_ || (!queue_.empty() && queue_.front().first + settle_ <= Clock::now()); });
    if (stop_) return;
    std::deque<std::pair<Clock::time_point, ObservedJob>> taken;
    const Clock::time_point settled = Clock::now() - settle_;
    while (!queue_.empty() && queue_.front().first <= settled) {
      taken.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    queue_lock.unlock();
    FollowLeadership();
    const auto count = static_cast<int64_t>(taken.size());
    Judge(std::move(taken));
    queue_lock.lock();
    in_flight_ -= count;
  }
}

void InsightEngine::Judge(std::deque<std::pair<Clock::time_point, ObservedJob>> taken) {
  // Everything taken, grouped by source: one judging pass per source.
  std::map<std::string, std::vector<std::pair<JobPoint, ExplainedAttributes>>> by_source;
  for (auto& [when, p] : taken) by_source[p.source_key].emplace_back(p.point, std::move(p.attributes));
  for (auto& [key, pending] : by_source) {
    if (stopping()) return;
    {
      // Queries get the lock between sources.
      std::lock_guard<std::mutex> lock(mu_);
      std::vector<JobPoint> points;
      points.reserve(pending.size());
      for (auto& [point, attributes] : pending) {
        points.push_back(point);
        points.back().attributes = Intern(std::move(attributes));
      }
      Apply(key, std::move(points));
    }
    Tell();
  }
}

void InsightEngine::FollowLeadership() {
  const bool leads = store_->Leads();
  std::vector<std::string> keys;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const bool starts = leads && !judging_;
    judging_ = leads;
    if (!starts) return;
    for (const auto& [key, source] : sources_) keys.push_back(key);
  }
  // What the last leader found was adopted; this one judges it all again
  // and tells only what differs.
  for (const auto& key : keys) {
    if (stopping()) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      Source& source = sources_[key];
      Rejudge(key, source, 0);
      CheckOverrun(key, source);
    }
    Tell();
  }
}

void InsightEngine::Tell() {
  std::vector<AnomalyRecord> news;
  std::vector<OverrunNews> overruns;
  std::vector<std::pair<std::string, std::vector<AnomalyRecord>>> changed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    news.swap(fresh_);
    overruns.swap(fresh_overruns_);
    if (on_changed_)
      for (const auto& key : changed_) changed.emplace_back(key, sources_[key].anomalies);
    changed_.clear();
  }
  if (on_anomaly_)
    for (const auto& r : news) on_anomaly_(r);
  if (on_overrun_)
    for (const auto& o : overruns) on_overrun_(o.source_key, o.newest, o.forecast);
  for (const auto& [key, records] : changed) on_changed_(key, records);
}

bool InsightEngine::Adopt(const std::string& source_key, std::vector<AnomalyRecord> records) {
  std::lock_guard<std::mutex> lock(mu_);
  if (judging_) return false;
  for (const auto& r : records)
    if (raised_ids_.insert(r.id).second) raised_[{r.anomaly.kind, source_key}]++;
  std::sort(records.begin(), records.end(), ByTime);
  sources_[source_key].anomalies = std::move(records);
  return true;
}

void InsightEngine::Apply(const std::string& key, std::vector<JobPoint> points) {
  Source& source = sources_[key];
  std::sort(points.begin(), points.end());
  size_t from = source.jobs.size();
  for (const auto& p : points) {
    const size_t at = PositionOf(source.jobs, p);
    from = std::min(from, at);
    // A newer version of a stored job (same start and span) replaces it.
    if (at < source.jobs.size() && source.jobs[at].span_id == p.span_id && source.jobs[at].start_ns == p.start_ns) {
      source.jobs[at] = p;
      continue;
    }
    source.jobs.insert(source.jobs.begin() + static_cast<std::ptrdiff_t>(at), p);
    ++jobs_;
  }
  if (!judging_) return;
  Rejudge(key, source, from);
  CheckOverrun(key, source);
}

void InsightEngine::CheckOverrun(const std::string& key, Source& source) {
  if (source.jobs.empty()) return;
  const JobPoint& newest = source.jobs.back();
  const Forecast f = ForecastSource(source.jobs, source.jobs.size(), newest.start_ns + 1, FleetRates{}, 0);
  const bool soon = f.overrun && f.overrun->runs_ahead <= kOverrunNoticeRuns;
  if (soon && !source.overrun_soon && live_) fresh_overruns_.push_back({key, newest, *f.overrun});
  source.overrun_soon = soon;
}

void InsightEngine::Rejudge(const std::string& key, Source& source, size_t from) {
  auto& anomalies = source.anomalies;
  // Every job from `from` on is judged again, on the jobs before it.
  if (from >= source.jobs.size()) return;
  const JobPoint& first = source.jobs[from];
  const auto judged_again = std::stable_partition(anomalies.begin(), anomalies.end(), [&](const AnomalyRecord& r) {
    return r.time_ns < first.start_ns || (r.time_ns == first.start_ns && r.span_id < first.span_id);
  });
  std::vector<AnomalyRecord> before(std::make_move_iterator(judged_again), std::make_move_iterator(anomalies.end()));
  anomalies.erase(judged_again, anomalies.end());
  const size_t kept = anomalies.size();
  auto record = [&](Anomaly a) {
    const JobPoint& job = source.jobs[a.job];
    AnomalyRecord r;
    r.id = trace::ToHex(job.span_id) + "-" + a.kind;
    r.source_key = key;
    r.trace_id = job.trace_id;
    r.span_id = job.span_id;
    r.time_ns = job.start_ns;
    r.anomaly = std::move(a);
    if (raised_ids_.insert(r.id).second) {
      raised_[{r.anomaly.kind, key}]++;
      if (live_ && r.anomaly.job + 3 >= source.jobs.size()) fresh_.push_back(r);
    }
    anomalies.push_back(std::move(r));
  };
  const PhaseLookup phases = [this](const JobPoint& j) { return Phases(j); };
  const AttributeLookup attributes = [this](uint32_t id) -> const ExplainedAttributes& { return attributes_[id]; };
  judged_ += static_cast<int64_t>(source.jobs.size() - from);
  for (size_t i = from; i < source.jobs.size(); ++i)
    if (auto a = JudgeJob(source.jobs, i, phases, attributes)) record(std::move(*a));
  for (auto& a : FailureBursts(source.jobs, from, &source.bursts)) record(std::move(a));
  std::sort(anomalies.begin() + static_cast<std::ptrdiff_t>(kept), anomalies.end(), ByTime);
  if (!std::equal(before.begin(), before.end(), anomalies.begin() + static_cast<std::ptrdiff_t>(kept), anomalies.end(),
                  Same))
    changed_.insert(key);
  std::inplace_merge(anomalies.begin(), anomalies.begin() + static_cast<std::ptrdiff_t>(kept), anomalies.end(), ByTime);
}

std::vector<std::pair<std::string, double>> InsightEngine::Phases(const JobPoint& job) {
  const std::string key = trace::ToHex(job.span_id) + trace::ToHex(job.trace_id);
  auto it = phase_cache_.find(key);
  if (it != phase_cache_.end()) return it->second;
  if (phase_cache_.size() >= kPhaseCacheEntries) phase_cache_.clear();
  auto phases = ReadPhases(store_, job.trace_id, job.span_id);
  phase_cache_.emplace(key, phases);
  return phases;
}

std::vector<AnomalyRecord> InsightEngine::Anomalies(const AnomalyFilter& filter) const {
  std::vector<AnomalyRecord> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& key : filter.sources) {
    auto it = sources_.find(key);
    if (it == sources_.end()) continue;
    for (const auto& r : it->second.anomalies) {
      if (r.time_ns < filter.since_ns || r.time_ns >= filter.until_ns) continue;
      if (!filter.kind.empty() && r.anomaly.kind != filter.kind) continue;
      if (filter.trace_id && r.trace_id != *filter.trace_id) continue;
      out.push_back(r);
    }
  }
  std::sort(out.begin(), out.end(), ByTime);
  return out;
}

std::vector<SourceForecast> InsightEngine::Forecasts(const std::set<std::string>& sources, int64_t as_of_ns) const {
  std::vector<SourceForecast> out;
  std::lock_guard<std::mutex> lock(mu_);
  // The fleet's rates as of the same moment: what a new source borrows.
  FleetRates fleet;
  for (const auto& [key, source] : sources_) fleet.Add(source.jobs, CountBefore(source.jobs, as_of_ns));
  for (const auto& key : sources) {
    auto it = sources_.find(key);
    if (it == sources_.end()) continue;
    const size_t end = CountBefore(it->second.jobs, as_of_ns);
    if (end == 0) continue;
    SourceForecast f;
    f.source_key = key;
    f.jobs = static_cast<int64_t>(end);
    f.forecast = ForecastSource(it->second.jobs, end, as_of_ns, fleet, quota_bytes_);
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<std::pair<std::string, JobPoint>> InsightEngine::Jobs(const std::set<std::string>& sources, int64_t since_ns,
                                                                  int64_t until_ns) const {
  std::vector<std::pair<std::string, JobPoint>> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& key : sources) {
    auto it = sources_.find(key);
    if (it == sources_.end()) continue;
    const auto& jobs = it->second.jobs;
    for (size_t i = CountBefore(jobs, since_ns); i < jobs.size() && jobs[i].start_ns < until_ns; ++i)
      out.emplace_back(key, jobs[i]);
  }
  return out;
}

std::map<std::pair<std::string, std::string>, int64_t> InsightEngine::RaisedCounts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return raised_;
}

}  // namespace backspan::observatory::insight
