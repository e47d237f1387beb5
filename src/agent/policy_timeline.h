// When a policy's runs happen, as a state machine over time: given the
// clock, which run to start, which ticks were missed and why. It does no
// I/O and reads no clock, so tests drive days of a schedule in
// microseconds; agent.cc feeds it the Env's clock and runs what it asks.
//
// - A tick's run starts at the tick plus the policy's random delay.
// - Runs never overlap: a tick that comes while a run still runs is
//   skipped and reported missed (reason "skipped").
// - After downtime one catch-up run serves the newest tick; the older ticks
//   the agent was not there for are reported missed ("agent_down").
// - A failed run is retried with backoff while its window lasts; when no
//   retry fits, the tick is missed ("failed"). A run still going at the end
//   of its window is missed ("overrun") and goes on.
// - forget and check run on their own schedules, between backups, once
//   after downtime however many of their ticks passed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/config.h"

namespace backspan::agent {

// What the agent remembers of a policy across restarts (agent_state.h).
struct PolicyState {
  int64_t last_tick = 0;         // the newest backup tick dealt with (0: never seen)
  int64_t running_tick = 0;      // the tick the current or pending run serves; 0 if none
  std::string running_task;      // "backup", "manual", "restore", "forget" or "check" while one runs; "" otherwise
  int attempt = 0;               // of the backup serving running_tick
  int64_t retry_at = 0;          // when the next attempt starts; 0 if none is pending
  bool window_reported = false;  // running_tick's miss (overrun or failure) is reported
  int64_t last_success = 0, last_end = 0;
  std::string last_outcome;      // ok, partial, failed, skipped, interrupted
  int64_t last_forget_tick = 0, last_check_tick = 0;
};

enum class Outcome { kOk, kPartial, kFailed, kSkipped, kInterrupted };
const char* OutcomeName(Outcome o);

// Why a tick ended its window without a successful backup.
inline constexpr char kMissedAgentDown[] = "agent_down";
inline constexpr char kMissedFailed[] = "failed";
inline constexpr char kMissedOverrun[] = "overrun";
inline constexpr char kMissedSkipped[] = "skipped";

struct Action {
  enum Kind { kBackup, kForget, kCheck, kRestore, kMissed } kind;
  int64_t tick = 0;       // the schedule tick served or missed
  int attempt = 1;        // kBackup: 1 for the first
  bool catch_up = false;  // kBackup: the agent was down at the tick
  std::string reason;     // kMissed: one of kMissed*
  int64_t missed_before = 0;  // kMissed agent_down: older ticks not reported one by one
  std::string snapshot = "latest";  // kRestore: what to restore
  std::string target = "";          // kRestore: where, below the policy's restore_root
};
// "backup", "forget", "check", "restore" or "missed".
const char* ActionName(Action::Kind kind);

class PolicyTimeline {
 public:
  // `policy` must outlive this. `state` is what was saved; a policy seen
  // for the first time runs its newest tick if that tick's window is still
  // open, and otherwise starts with its next tick.
  PolicyTimeline(const Policy* policy, std::string host, PolicyState state);

  // What to do at `now` (unix seconds): runs to start and ticks to report
  // missed. A started run must be followed by Finished.
  std::vector<Action> Poll(int64_t now);
  // The run that Poll started ended at `now`. A failed backup either gets
  // a retry (started by a later Poll) or is reported missed.
  std::vector<Action> Finished(int64_t now, Outcome outcome);
  // Starts a run someone asked for (a backup or a restore), outside the
  // schedule; false while another run of the policy runs or waits for a
  // retry. Its end (Finished) changes no tick's fate; a backup's success
  // counts as the policy's last success.
  bool StartManual(Action::Kind kind);
  // The agent is starting: a run the previous process left behind was
  // interrupted; it is retried if its window is still open.
  void Recover(int64_t now);

  // When Poll next has something to do, at or after `now`.
  int64_t NextWake(int64_t now) const;
  bool running() const { return !state_.running_task.empty(); }
  const PolicyState& state() const { return state_; }
  const Policy& policy() const { return *policy_; }

 private:
  void PollMaintenance(int64_t now, std::vector<Action>& out);
  void ReportOverrun(int64_t now, std::vector<Action>& out);

  const Policy* policy_;
  std::string host_;
  PolicyState state_;
};

// Missed ticks after a long downtime are reported one by one up to this many
// (the newest); older ones are counted on the oldest report.
inline constexpr size_t kMaxMissedReports = 24;

}  // namespace backspan::agent
