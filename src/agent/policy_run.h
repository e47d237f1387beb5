// Runs what a policy's timeline asks for, as one trace: the root span
// "agent run" (the policy, the tick it serves, the attempt), a span per
// hook, and the backspan job itself as a child process continuing the
// trace through TRACEPARENT and handing its spans to the agent's spool.
// Also turns a missed tick into a job of kind "missed".
#pragma once

#include <cstdint>
#include <mutex>
#include <set>
#include <string>

#include "agent/config.h"
#include "agent/policy_timeline.h"
#include "trace/exporter.h"
#include "trace/tracer.h"

namespace backspan {
class Env;
}

namespace backspan::agent {

struct RunResult {
  Outcome outcome = Outcome::kFailed;
  int exit_code = -1;   // of the job; -1 if it did not run
  std::string message;  // why it failed or was skipped
  std::string trace_id;
};

class PolicyRunner {
 public:
  // Spans go to `processor` (the agent's pipeline); jobs hand theirs to the
  // spool in `spool_dir`.
  PolicyRunner(const AgentConfig* config, trace::SpanProcessor* processor, Env* env, std::string spool_dir);

  // Runs `action` (a backup, forget or check) of `policy` and waits for it.
  // `trigger` is "schedule" or who asked for the run.
  RunResult Run(const Policy& policy, const Action& action, const std::string& trigger);
  // Reports a missed tick as a job of kind "missed" (status ERROR) from
  // the tick to `now`, carrying the policy's source so it lands there.
  void ReportMissed(const Policy& policy, const Action& missed, int64_t now);
  // SIGTERM to every job and hook running; they end as interrupted.
  void Stop();

 private:
  enum class HookResult { kOk, kSkip, kFail };
  // Runs argv and waits; its exit code (128 + signal), with its last line
  // of output in `last_line`.
  int RunProcess(const std::vector<std::string>& argv, std::vector<std::string> environment, std::string* last_line);
  // Runs the hooks of one kind in order, each in its span, until one fails.
  HookResult RunHooks(const Policy& policy, const std::vector<std::string>& commands, const char* kind,
                      const trace::Span& parent, const std::string& status, std::string* message);
  // The environment of a job: the run's trace context, the spool, the host.
  std::vector<std::string> JobEnvironment(const Policy& policy, const Action& action, const trace::Span& run) const;
  std::vector<std::string> JobArgs(const Policy& policy, const Action& action) const;
  void SetPolicyAttributes(trace::Span& span, const Policy& policy) const;

  const AgentConfig* config_;
  trace::SpanProcessor* processor_;
  Env* env_;
  std::string spool_dir_;
  std::mutex mu_;
  std::set<int> pids_;
  bool stopping_ = false;
};

}  // namespace backspan::agent
