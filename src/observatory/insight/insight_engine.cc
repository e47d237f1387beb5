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

}  // namespace

InsightEngine::InsightEngine(SpanStore* store, double quota_bytes) : store_(store), quota_bytes_(quota_bytes) {}

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
    std::lock_guard<std::mutex> lock(queue_mu_);
    for (auto& j : jobs) queue_.push_back(std::move(j));
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
  if (Status s = LoadStore(); !s.ok())
    std::fprintf(stderr, "insight: the store's jobs could not be read (%s); judging new jobs only\n", s.message().c_str());
  {
    std::lock_guard<std::mutex> lock(mu_);
    live_ = true;
  }
  std::unique_lock<std::mutex> queue_lock(queue_mu_);
  loaded_ = true;
  while (true) {
    if (in_flight_ == 0) idle_.notify_all();
    wake_.wait(queue_lock, [&] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    std::deque<ObservedJob> taken;
    taken.swap(queue_);
    queue_lock.unlock();
    // Everything waiting, grouped by source: one judging pass per source.
    std::map<std::string, std::vector<std::pair<JobPoint, ExplainedAttributes>>> by_source;
    for (auto& p : taken) by_source[p.source_key].emplace_back(p.point, std::move(p.attributes));
    for (auto& [key, pending] : by_source) {
      if (stopping()) return;
      std::vector<AnomalyRecord> news;
      std::vector<OverrunNews> overruns;
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
        news.swap(fresh_);
        overruns.swap(fresh_overruns_);
      }
      if (on_anomaly_)
        for (const auto& r : news) on_anomaly_(r);
      if (on_overrun_)
        for (const auto& o : overruns) on_overrun_(o.source_key, o.newest, o.forecast);
    }
    queue_lock.lock();
    in_flight_ -= static_cast<int64_t>(taken.size());
  }
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
  // Every job from `from` on is judged again; failure bursts depend on the
  // whole sequence and are found again from the start.
  const JobPoint* first = from < source.jobs.size() ? &source.jobs[from] : nullptr;
  anomalies.erase(std::remove_if(anomalies.begin(), anomalies.end(),
                                 [&](const AnomalyRecord& r) {
                                   return r.anomaly.kind == kAnomalyFailures ||
                                          (first && (r.time_ns > first->start_ns ||
                                                     (r.time_ns == first->start_ns && !(r.span_id < first->span_id))));
                                 }),
                  anomalies.end());
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
  for (size_t i = from; i < source.jobs.size(); ++i)
    if (auto a = JudgeJob(source.jobs, i, phases, attributes)) record(std::move(*a));
  for (auto& a : FailureBursts(source.jobs)) record(std::move(a));
  std::sort(anomalies.begin(), anomalies.end(), [](const AnomalyRecord& a, const AnomalyRecord& b) {
    return a.time_ns != b.time_ns ? a.time_ns < b.time_ns : a.id < b.id;
  });
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
  std::sort(out.begin(), out.end(), [](const AnomalyRecord& a, const AnomalyRecord& b) {
    return a.time_ns != b.time_ns ? a.time_ns < b.time_ns : a.id < b.id;
  });
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
