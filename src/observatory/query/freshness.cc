#include "observatory/query/freshness.h"

#include <algorithm>
#include <map>
#include <unordered_set>
#include <vector>

#include "schedule/schedule.h"
#include "trace/semconv.h"

namespace backspan::observatory {
namespace {

constexpr int64_t kNs = 1'000'000'000;

// The grace when a policy names none: a tenth of the interval between its
// runs, from a minute to an hour.
int64_t DefaultGraceSeconds(int64_t interval_seconds) { return std::clamp<int64_t>(interval_seconds / 10, 60, 3600); }

Freshness Learned(const SourceState& s, int64_t now_ns, int64_t default_stale_ns) {
  Freshness f;
  const auto& t = s.recent_success_ns;
  if (t.size() >= 3) {
    std::vector<int64_t> gaps;
    for (size_t i = 1; i < t.size(); ++i) gaps.push_back(t[i] - t[i - 1]);
    std::nth_element(gaps.begin(), gaps.begin() + static_cast<long>(gaps.size() / 2), gaps.end());
    f.expected_interval_ns = gaps[gaps.size() / 2];
  }
  f.overdue_after_ns = f.expected_interval_ns > 0 ? 2 * f.expected_interval_ns : default_stale_ns;
  // Never alarm sooner than a minute: back-to-back test runs teach no schedule.
  f.overdue_after_ns = std::max<int64_t>(f.overdue_after_ns, 60 * kNs);
  const int64_t since = s.last_success_ns > 0 ? s.last_success_ns : s.first_seen_ns;
  f.age_ns = std::max<int64_t>(0, now_ns - since);
  f.state = f.age_ns > f.overdue_after_ns ? SourceHealth::kOverdue : SourceHealth::kOk;
  return f;
}

// By the declared schedule; false if it does not parse (then learned).
bool Declared(const SourceState& s, const Declaration& d, int64_t now_ns, Freshness& f) {
  const schedule::Schedule* schedule = d.schedule.get();
  if (!schedule) return false;
  const DeclaredPolicy& p = *d.policy;
  const int64_t since_ns = s.last_success_ns > 0 ? s.last_success_ns : std::max(s.first_seen_ns, p.first_declared_ns);
  auto tick = schedule->Next(since_ns / kNs);
  if (!tick) return false;
  auto after = schedule->Next(*tick);
  const int64_t interval = after ? *after - *tick : 86400;
  const int64_t deadline = p.window_seconds ? *tick + p.window_seconds : *tick + interval;
  const int64_t grace = p.grace_seconds ? p.grace_seconds : DefaultGraceSeconds(interval);
  f.expected_interval_ns = interval * kNs;
  f.expected_by_ns = deadline * kNs;
  f.grace_ns = grace * kNs;
  f.overdue_after_ns = std::max<int64_t>(0, (deadline + grace) * kNs - since_ns);
  f.age_ns = std::max<int64_t>(0, now_ns - since_ns);
  f.state = now_ns >= (deadline + grace) * kNs ? SourceHealth::kOverdue
            : now_ns >= deadline * kNs         ? SourceHealth::kLate
                                               : SourceHealth::kOk;
  return true;
}

}  // namespace

const char* HealthName(SourceHealth h) {
  switch (h) {
    case SourceHealth::kOk: return "ok";
    case SourceHealth::kRunning: return "running";
    case SourceHealth::kLate: return "late";
    case SourceHealth::kOverdue: return "overdue";
    case SourceHealth::kFailing: return "failing";
    case SourceHealth::kPaused: return "paused";
  }
  return "ok";
}

int HealthSeverity(SourceHealth h) {
  switch (h) {
    case SourceHealth::kOverdue: return 0;
    case SourceHealth::kFailing: return 1;
    case SourceHealth::kLate: return 2;
    case SourceHealth::kRunning: return 3;
    case SourceHealth::kOk: return 4;
    case SourceHealth::kPaused: return 5;
  }
  return 4;
}

bool AgentUp(const AgentRecord& agent, int64_t now_ns) {
  return !agent.stopping && now_ns - agent.received_ns <= 3 * agent.interval_seconds * kNs;
}

std::unordered_map<std::string, Declaration> Declarations(const std::vector<AgentRecord>& agents) {
  std::unordered_map<std::string, Declaration> out;
  // Fleets repeat a few schedules: each is parsed once.
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const schedule::Schedule>> parsed;
  for (const AgentRecord& a : agents)
    for (const DeclaredPolicy& p : a.policies) {
      if (!p.error.empty()) continue;
      auto [it, fresh] = parsed.try_emplace({p.schedule, p.timezone});
      if (fresh)
        if (auto s = schedule::Schedule::Parse(p.schedule, p.timezone); s.ok())
          it->second = std::make_shared<const schedule::Schedule>(std::move(*s));
      out[p.source_key] = Declaration{&p, &a, it->second};
    }
  return out;
}

Freshness EvaluateFreshness(const SourceState& s, const Declaration* declared, int64_t now_ns, int64_t default_stale_ns) {
  Freshness f;
  if (!declared || !Declared(s, *declared, now_ns, f)) f = Learned(s, now_ns, default_stale_ns);
  // An agent's word that a run is going counts while the agent is heard
  // from: a dead agent's last heartbeat must not hide an overdue source.
  const bool running = s.last_status == semconv::kJobStatusRunning ||
                       (declared && declared->policy->running && AgentUp(*declared->agent, now_ns));
  const bool failing = s.last_status == semconv::kJobStatusFailed || s.last_status == semconv::kJobStatusLost;
  if (declared && declared->policy->paused) f.state = SourceHealth::kPaused;
  else if (running) f.state = SourceHealth::kRunning;
  else if (failing) f.state = SourceHealth::kFailing;
  f.overdue = f.state == SourceHealth::kOverdue;
  return f;
}

std::vector<SourceView> FreshnessBoard(std::vector<SourceState> sources,
                                       const std::unordered_map<std::string, Declaration>& declared,
                                       int64_t now_ns, int64_t default_stale_ns) {
  std::vector<SourceView> views;
  views.reserve(sources.size() + declared.size());
  std::unordered_set<const Declaration*> seen;
  for (SourceState& s : sources) {
    auto it = declared.find(s.key);
    const Declaration* d = it == declared.end() ? nullptr : &it->second;
    if (d) seen.insert(d);
    views.push_back({std::move(s), d, {}});
  }
  for (const auto& [key, d] : declared) {
    if (seen.count(&d)) continue;
    SourceState s;
    s.key = key;
    s.host = d.agent->host;
    s.service = "backspan";
    for (const auto& p : d.policy->paths) s.paths += (s.paths.empty() ? "" : " ") + p;
    s.resource_group = d.policy->resource_group;
    s.tags = d.policy->tags;
    s.first_seen_ns = d.policy->first_declared_ns;
    views.push_back({std::move(s), &d, {}});
  }
  for (SourceView& v : views) v.freshness = EvaluateFreshness(v.source, v.declared, now_ns, default_stale_ns);
  // Worse states first, then the stalest; sorted by index, moved once.
  std::vector<uint32_t> order(views.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const int sa = HealthSeverity(views[a].freshness.state), sb = HealthSeverity(views[b].freshness.state);
    if (sa != sb) return sa < sb;
    return views[a].freshness.age_ns > views[b].freshness.age_ns;
  });
  std::vector<SourceView> out;
  out.reserve(views.size());
  for (uint32_t i : order) out.push_back(std::move(views[i]));
  return out;
}

}  // namespace backspan::observatory
