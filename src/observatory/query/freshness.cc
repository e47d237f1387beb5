#include "observatory/query/freshness.h"

#include <algorithm>
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
bool Declared(const SourceState& s, const DeclaredPolicy& p, int64_t now_ns, Freshness& f) {
  auto schedule = schedule::Schedule::Parse(p.schedule, p.timezone);
  if (!schedule.ok()) return false;
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

std::map<std::string, Declaration> Declarations(const std::vector<AgentRecord>& agents) {
  std::map<std::string, Declaration> out;
  for (const AgentRecord& a : agents)
    for (const DeclaredPolicy& p : a.policies)
      if (p.error.empty()) out[p.source_key] = Declaration{&p, &a};
  return out;
}

Freshness EvaluateFreshness(const SourceState& s, const Declaration* declared, int64_t now_ns, int64_t default_stale_ns) {
  Freshness f;
  if (!declared || !Declared(s, *declared->policy, now_ns, f)) f = Learned(s, now_ns, default_stale_ns);
  const bool running = s.last_status == semconv::kJobStatusRunning || (declared && declared->policy->running);
  const bool failing = s.last_status == semconv::kJobStatusFailed || s.last_status == semconv::kJobStatusLost;
  if (declared && declared->policy->paused) f.state = SourceHealth::kPaused;
  else if (running) f.state = SourceHealth::kRunning;
  else if (failing) f.state = SourceHealth::kFailing;
  f.overdue = f.state == SourceHealth::kOverdue;
  return f;
}

std::vector<SourceView> FreshnessBoard(std::vector<SourceState> sources, const std::map<std::string, Declaration>& declared,
                                       int64_t now_ns, int64_t default_stale_ns) {
  std::vector<SourceView> out;
  std::map<std::string, bool> seen;
  for (SourceState& s : sources) {
    auto it = declared.find(s.key);
    if (it != declared.end()) seen[s.key] = true;
    out.push_back({std::move(s), it == declared.end() ? nullptr : &it->second, {}});
  }
  for (const auto& [key, d] : declared) {
    if (seen.count(key)) continue;
    SourceState s;
    s.key = key;
    s.host = d.agent->host;
    s.service = "backspan";
    for (const auto& p : d.policy->paths) s.paths += (s.paths.empty() ? "" : " ") + p;
    s.resource_group = d.policy->resource_group;
    s.tags = d.policy->tags;
    s.first_seen_ns = d.policy->first_declared_ns;
    out.push_back({std::move(s), &d, {}});
  }
  for (SourceView& v : out) v.freshness = EvaluateFreshness(v.source, v.declared, now_ns, default_stale_ns);
  std::stable_sort(out.begin(), out.end(), [](const SourceView& a, const SourceView& b) {
    const int sa = HealthSeverity(a.freshness.state), sb = HealthSeverity(b.freshness.state);
    if (sa != sb) return sa < sb;
    return a.freshness.age_ns > b.freshness.age_ns;
  });
  return out;
}

}  // namespace backspan::observatory
