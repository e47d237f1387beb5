// Insight over every source's jobs (docs/insight.md): keeps each source's
// finished jobs in start order, judges each job against those before it
// as jobs arrive (in a thread of its own, never on the ingest path), and
// answers anomalies and forecasts from memory. At startup it reads the
// store's jobs and judges them again: the same jobs give the same answers.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "observatory/insight/detector.h"
#include "observatory/insight/forecaster.h"
#include "observatory/store/span_store.h"

namespace backspan::observatory::insight {

struct AnomalyRecord {
  std::string id;  // "<job span id>-<kind>": stable across restarts
  std::string source_key;
  trace::TraceId trace_id{};
  trace::SpanId span_id{};
  int64_t time_ns = 0;  // the job's start
  Anomaly anomaly;
};

struct AnomalyFilter {
  int64_t since_ns = 0, until_ns = INT64_MAX;  // on the job's start
  std::set<std::string> sources;               // source keys; empty: none
  std::string kind;                            // empty: every kind
  const trace::TraceId* trace_id = nullptr;    // only this trace's
};

struct SourceForecast {
  std::string source_key;
  Forecast forecast;
  int64_t jobs = 0;  // the jobs it was made from
};

struct InsightStatus {
  bool loaded = false;  // the store's jobs have been read and judged
  int64_t pending = 0;  // jobs handed over and not yet judged
  int64_t jobs = 0, sources = 0, anomalies = 0;
  bool judging = false;  // this process judges (it leads the store's replicas)
  int64_t judged = 0;    // judgements made since it started, a job judged again counted again
};

// A stored job as handed to insight: what it reads of it, taken on the
// ingest path without copying the rest.
struct ObservedJob {
  std::string source_key;
  JobPoint point;
  ExplainedAttributes attributes;  // interned when judged
};

// A forecast overrun this close is worth a notification.
inline constexpr int kOverrunNoticeRuns = 3;

class InsightEngine {
 public:
  // `quota_bytes`: the stored-bytes quota growth forecasts aim at (0: none).
  InsightEngine(SpanStore* store, double quota_bytes);
  ~InsightEngine();
  InsightEngine(const InsightEngine&) = delete;
  InsightEngine& operator=(const InsightEngine&) = delete;

  // Told of each anomaly found on one of its source's last three jobs while
  // judging jobs handed over by Observe (not those of the store read at
  // startup, nor deep in a backfilled history): the news worth a
  // notification. Called from the judging thread, outside its locks; set
  // before Start.
  void OnAnomaly(std::function<void(const AnomalyRecord&)> fn) { on_anomaly_ = std::move(fn); }
  // Likewise told when a source's newest job brings its forecast overrun
  // within kOverrunNoticeRuns runs (once, until the forecast moves away).
  using OverrunNotice = std::function<void(const std::string& source_key, const JobPoint& newest,
                                           const OverrunForecast& forecast)>;
  void OnOverrunForecast(OverrunNotice fn) { on_overrun_ = std::move(fn); }
  // Told, while this engine judges, of each source whose anomalies changed,
  // with all of them by time: what replicas that do not judge adopt.
  // Called from the judging thread outside its locks; set before Start.
  using AnomaliesChanged = std::function<void(const std::string& source_key, const std::vector<AnomalyRecord>&)>;
  void OnAnomaliesChanged(AnomaliesChanged fn) { on_changed_ = std::move(fn); }
  // Reads the store's jobs, then judges what Observe hands over; returns
  // at once (the work runs in a thread). Only while the store leads
  // (SpanStore::Leads): replicas sharing a store judge once, in the leader,
  // and the others Adopt what it found. An engine that starts to lead
  // judges every job it holds again.
  void Start();
  // Takes a source's anomalies as the judging replica found them (all of
  // them, replacing what it held); false, and nothing taken, while this
  // engine judges.
  bool Adopt(const std::string& source_key, std::vector<AnomalyRecord> records);
  // What insight reads of `job`, if it reads the job at all (IsInsightJob).
  static std::optional<ObservedJob> Read(const JobRecord& job);
  // Stops judging (what is queued is dropped) and waits for the thread:
  // before what OnAnomaly's function uses goes away.
  void Stop();
  // Hands over stored jobs (from Read); returns at once.
  void Observe(std::vector<ObservedJob> jobs);
  InsightStatus status() const;
  // Waits until everything handed over so far is judged; false on timeout.
  bool WaitIdle(int64_t timeout_ms);

  // Anomalies of the filter's sources, by job start.
  std::vector<AnomalyRecord> Anomalies(const AnomalyFilter& filter) const;
  // Forecasts from the jobs that started before `as_of_ns`, for `sources`.
  std::vector<SourceForecast> Forecasts(const std::set<std::string>& sources, int64_t as_of_ns) const;
  // The jobs of `sources` that started in [since, until), by source then start.
  std::vector<std::pair<std::string, JobPoint>> Jobs(const std::set<std::string>& sources, int64_t since_ns,
                                                     int64_t until_ns) const;
  // Anomalies raised since the process started, by (kind, source key): a
  // counter that never goes down.
  std::map<std::pair<std::string, std::string>, int64_t> RaisedCounts() const;

 private:
  struct Source {
    std::vector<JobPoint> jobs;
    std::vector<AnomalyRecord> anomalies;  // by (time, id)
    BurstScan bursts;                      // where FailureBursts left off
    bool overrun_soon = false;             // its forecast overrun is within kOverrunNoticeRuns
  };
  struct OverrunNews {
    std::string source_key;
    JobPoint newest;
    OverrunForecast forecast;
  };

  using Clock = std::chrono::steady_clock;
  void Loop();
  Status LoadStore();
  // Judges what was taken from the queue, a source at a time.
  void Judge(std::deque<std::pair<Clock::time_point, ObservedJob>> taken);
  // Starts or stops judging as the store's leadership moved.
  void FollowLeadership();
  // Tells what the last pass found (news, changed sources); requires not mu_.
  void Tell();
  bool stopping() const;
  uint32_t Intern(ExplainedAttributes attributes);  // requires mu_
  // Inserts `points` in order and judges again from the first changed one.
  void Apply(const std::string& key, std::vector<JobPoint> points);  // requires mu_
  void Rejudge(const std::string& key, Source& source, size_t from);  // requires mu_
  // Whether the source's overrun forecast came within reach; news if live.
  void CheckOverrun(const std::string& key, Source& source);  // requires mu_
  std::vector<std::pair<std::string, double>> Phases(const JobPoint& job);  // requires mu_

  SpanStore* store_;
  double quota_bytes_;
  // The hand-over from ingest, under its own lock so that ingest never
  // waits for judging (never held together with mu_).
  mutable std::mutex queue_mu_;
  std::condition_variable wake_, idle_;
  std::deque<std::pair<Clock::time_point, ObservedJob>> queue_;  // by when it was handed over
  // How long a job waits before it is judged: with replicas, the jobs
  // another replica stored arrive a little later than this one's, and a
  // job judged before an earlier one arrives is judged again.
  const Clock::duration settle_;
  int64_t in_flight_ = 0;
  bool loaded_ = false, stop_ = false;
  // What has been judged.
  mutable std::mutex mu_;
  std::unordered_map<std::string, Source> sources_;
  std::vector<ExplainedAttributes> attributes_;
  std::map<ExplainedAttributes, uint32_t> attribute_ids_;
  std::unordered_map<std::string, std::vector<std::pair<std::string, double>>> phase_cache_;
  std::set<std::string> raised_ids_;
  std::map<std::pair<std::string, std::string>, int64_t> raised_;
  int64_t jobs_ = 0;
  int64_t judged_ = 0;    // judgements made, a job judged again counted again
  bool judging_ = false;  // this engine judges (its store leads)
  bool live_ = false;                 // judging what Observe handed over
  std::vector<AnomalyRecord> fresh_;  // news for on_anomaly_, taken outside mu_
  std::vector<OverrunNews> fresh_overruns_;
  std::set<std::string> changed_;  // sources whose anomalies changed, for on_changed_
  std::function<void(const AnomalyRecord&)> on_anomaly_;
  OverrunNotice on_overrun_;
  AnomaliesChanged on_changed_;
  std::thread thread_;
};

}  // namespace backspan::observatory::insight
