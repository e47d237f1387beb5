// Whether a backup source is where its schedule says it should be, in the
// states of Healthchecks.io: ok, running, late (past its window, within the
// grace), overdue (past the grace), failing (its last run failed or was
// missed) and paused.
//
// A source an agent declares (its heartbeat's policies) is judged by that
// schedule: the first tick after the last success must have succeeded by
// the end of its window, plus the grace. This runs on the observatory's own
// clock, so a dead agent's sources go overdue. Other sources have a learned
// schedule: overdue once the last success is older than twice the median
// interval between recent successes (a daily backup alarms after 48 h);
// until three successes, the server's --stale-after applies.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <memory>
#include <string>
#include <vector>

#include "observatory/store/span_store.h"
#include "schedule/schedule.h"

namespace backspan::observatory {

enum class SourceHealth { kOk, kRunning, kLate, kOverdue, kFailing, kPaused };
const char* HealthName(SourceHealth h);
// Worse states first: the freshness board's order.
int HealthSeverity(SourceHealth h);

// A source's declared schedule: the policy, the agent that runs it, and its
// schedule parsed (null if it does not parse), shared by the policies that
// declare the same one.
struct Declaration {
  const DeclaredPolicy* policy = nullptr;
  const AgentRecord* agent = nullptr;
  std::shared_ptr<const schedule::Schedule> schedule;
};

struct Freshness {
  SourceHealth state = SourceHealth::kOk;
  bool overdue = false;              // state is kOverdue
  int64_t expected_interval_ns = 0;  // declared, or learned (0 until learned)
  int64_t overdue_after_ns = 0;      // the age at which the source is overdue
  int64_t age_ns = 0;                // since the last success (or first sight, if none)
  int64_t expected_by_ns = 0;        // declared: when the next success is due (0 otherwise)
  int64_t grace_ns = 0;              // declared: the grace after expected_by
};

// Whether an agent is heard from: its last heartbeat is at most three
// intervals old.
bool AgentUp(const AgentRecord& agent, int64_t now_ns);

// The declared policies by source key. The agents must outlive the map.
std::unordered_map<std::string, Declaration> Declarations(const std::vector<AgentRecord>& agents);

// `declared` may be null (a learned schedule).
Freshness EvaluateFreshness(const SourceState& s, const Declaration* declared, int64_t now_ns, int64_t default_stale_ns);

// The sources with what the agents declare: every stored source, and a
// declared source no job has reached yet (no id, first seen when declared).
struct SourceView {
  SourceState source;
  const Declaration* declared = nullptr;
  Freshness freshness;
};
std::vector<SourceView> FreshnessBoard(std::vector<SourceState> sources,
                                       const std::unordered_map<std::string, Declaration>& declared,
                                       int64_t now_ns, int64_t default_stale_ns);

}  // namespace backspan::observatory
