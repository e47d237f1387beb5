// `backspan agent`: runs each policy of the configuration on its schedule
// (PolicyTimeline), one run per policy at a time in its own thread,
// reports missed ticks as jobs, keeps its state across restarts, sends a
// heartbeat with the policies' schedules, and delivers everything through
// the spool. The clock is the Env's.
#pragma once

#include <condition_variable>
#include <deque>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/agent_state.h"
#include "agent/config.h"
#include "agent/observatory_client.h"
#include "agent/policy_run.h"
#include "agent/policy_timeline.h"
#include "agent/spool_shipper.h"
#include "notify/notifier.h"
#include "trace/export/spool.h"
#include "trace/redactor.h"

namespace backspan {
class Env;
}

namespace backspan::agent {

class Agent {
 public:
  // `config` must outlive the agent; `log` gets one line per event worth
  // telling an operator (runs, misses, delivery problems).
  Agent(const AgentConfig* config, Env* env, std::function<void(const std::string&)> log);
  ~Agent();

  // Loads the state (a run the last process left behind counts as
  // interrupted) and prepares the spool and the trace pipeline.
  Status Open();
  // Runs what is due now, waits for it, delivers the spool (for up to
  // `deliver_timeout_ms`) and returns. The exit status: 0 if every run
  // succeeded (or none was due), 3 if some were partial, 1 if any failed.
  int RunOnce(int64_t deliver_timeout_ms);
  // Runs until Stop() or an interrupt (SIGTERM, SIGINT): stops the running
  // jobs cleanly, records them as interrupted, and returns 0.
  int RunUntilStopped();
  void Stop();

  // The heartbeat's body: the agent, its spool, and each policy's
  // schedule and state (docs/api.md, "Agents").
  std::string HeartbeatJson() const;

 private:
  struct PolicySlot {
    std::unique_ptr<PolicyTimeline> timeline;
    std::thread thread;
    bool busy = false;
    std::optional<std::pair<Action, RunResult>> finished;
    std::deque<std::pair<Action, std::string>> asked;  // requested runs and who asked, waiting to start
  };
  // Polls every policy; starts due runs; reports missed ticks.
  void Step();
  void Start(PolicySlot& slot, const Action& action, const std::string& trigger);
  void Handle(PolicySlot& slot, const std::vector<Action>& actions, int64_t now);
  void SaveLocked();
  void SendHeartbeat();
  // Fetches "back up now" requests from the observatory (a long poll) until stopped.
  void PollRequests();
  // Tells the agent's own notifier, if it has one, what a run or a miss means.
  void Notify(const Policy& policy, const Action& action, Outcome outcome, const RunResult* result);
  int64_t NowSeconds() const;

  const AgentConfig* config_;
  Env* env_;
  std::function<void(const std::string&)> log_;
  std::unique_ptr<trace::Spool> spool_;
  trace::Resource resource_;
  std::unique_ptr<trace::SpanExporter> exporter_;
  std::unique_ptr<trace::SpanProcessor> processor_;
  std::unique_ptr<trace::Redactor> redactor_;  // for what leaves the host outside spans (heartbeats)
  std::unique_ptr<PolicyRunner> runner_;
  std::unique_ptr<ObservatoryClient> client_;
  std::unique_ptr<SpoolShipper> shipper_;
  std::unique_ptr<notify::Notifier> notifier_;
  std::thread poller_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, PolicySlot> slots_;  // runnable policies, by name
  bool stop_ = false;
  bool any_failed_ = false, any_partial_ = false;  // RunOnce's exit status: 1 before 3
};

}  // namespace backspan::agent
