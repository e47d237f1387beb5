#include "agent/policy_timeline.h"

#include <algorithm>
#include <deque>

namespace backspan::agent {
namespace {

// A run that starts this long after its start time is a catch-up.
constexpr int64_t kLateStartSeconds = 60;

}  // namespace

const char* ActionName(Action::Kind kind) {
  switch (kind) {
    case Action::kBackup: return "backup";
    case Action::kForget: return "forget";
    case Action::kCheck: return "check";
    case Action::kRestore: return "restore";
    case Action::kMissed: return "missed";
  }
  return "backup";
}

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kOk: return "ok";
    case Outcome::kPartial: return "partial";
    case Outcome::kFailed: return "failed";
    case Outcome::kSkipped: return "skipped";
    case Outcome::kInterrupted: return "interrupted";
  }
  return "failed";
}

PolicyTimeline::PolicyTimeline(const Policy* policy, std::string host, PolicyState state)
    : policy_(policy), host_(std::move(host)), state_(std::move(state)) {}

bool PolicyTimeline::StartManual(Action::Kind kind) {
  if (running() || state_.retry_at) return false;
  state_.running_task = kind == Action::kBackup ? "manual" : "restore";
  return true;
}

void PolicyTimeline::Recover(int64_t now) {
  if (state_.running_task.empty()) return;
  if (state_.running_task == "backup") state_.retry_at = now;
  state_.running_task.clear();
}

void PolicyTimeline::ReportOverrun(int64_t now, std::vector<Action>& out) {
  if (state_.running_task != "backup" || state_.window_reported) return;
  if (now < policy_->Deadline(state_.running_tick)) return;
  state_.window_reported = true;
  out.push_back({Action::kMissed, state_.running_tick, 1, false, kMissedOverrun});
}

std::vector<Action> PolicyTimeline::Poll(int64_t now) {
  std::vector<Action> out;
  const schedule::Schedule& schedule = *policy_->schedule;
  if (state_.last_tick == 0) {
    // First sight: the newest tick is due if its window is still open;
    // older ticks are not the agent's to report.
    state_.last_tick = now;
    if (auto latest = schedule.LastAtOrBefore(now); latest && now < policy_->Deadline(*latest)) state_.last_tick = *latest - 1;
  }
  if (state_.last_forget_tick == 0) state_.last_forget_tick = now;
  if (state_.last_check_tick == 0) state_.last_check_tick = now;

  if (running()) {
    // Ticks that come while a backup runs are skipped; maintenance only
    // delays them.
    if (state_.running_task == "backup") {
      for (auto t = schedule.Next(state_.last_tick); t && policy_->StartTime(*t, host_) <= now; t = schedule.Next(*t)) {
        out.push_back({Action::kMissed, *t, 1, false, kMissedSkipped});
        state_.last_tick = *t;
      }
      ReportOverrun(now, out);
    }
    return out;
  }

  if (state_.retry_at) {
    if (now >= policy_->Deadline(state_.running_tick)) {
      if (!state_.window_reported) out.push_back({Action::kMissed, state_.running_tick, 1, false, kMissedFailed});
      state_.retry_at = 0;
      state_.running_tick = 0;
      state_.window_reported = false;
    } else if (now >= state_.retry_at) {
      state_.retry_at = 0;
      state_.running_task = "backup";
      out.push_back({Action::kBackup, state_.running_tick, ++state_.attempt, false, ""});
      return out;
    } else {
      return out;
    }
  }

  // The ticks since the last one dealt with: the newest is run, older ones
  // passed while the agent was not there.
  std::deque<int64_t> older;
  int64_t older_count = 0;
  std::optional<int64_t> newest;
  for (auto t = schedule.Next(state_.last_tick); t && *t <= now; t = schedule.Next(*t)) {
    if (newest) {
      older.push_back(*newest);
      ++older_count;
      if (older.size() > kMaxMissedReports) older.pop_front();
    }
    newest = t;
  }
  if (newest && policy_->StartTime(*newest, host_) > now) {
    // Not yet due (its random delay); what came before it is missed.
    if (!older.empty()) state_.last_tick = older.back();
    newest.reset();
  }
  for (size_t i = 0; i < older.size(); ++i) {
    Action missed{Action::kMissed, older[i], 1, false, kMissedAgentDown};
    if (i == 0) missed.missed_before = older_count - int64_t(older.size());
    out.push_back(missed);
  }
  if (!newest) {
    PollMaintenance(now, out);
    return out;
  }
  const int64_t tick = *newest;
  state_.last_tick = tick;
  state_.running_tick = tick;
  state_.attempt = 1;
  state_.window_reported = false;
  if (now >= policy_->Deadline(tick)) {
    // Its window passed too: missed, and run now to catch up.
    out.push_back({Action::kMissed, tick, 1, false, kMissedAgentDown});
    state_.window_reported = true;
  }
  state_.running_task = "backup";
  out.push_back({Action::kBackup, tick, 1, now - policy_->StartTime(tick, host_) > kLateStartSeconds, ""});
  return out;
}

void PolicyTimeline::PollMaintenance(int64_t now, std::vector<Action>& out) {
  struct Task {
    const std::optional<schedule::Schedule>& schedule;
    int64_t& last;
    Action::Kind kind;
    const char* name;
  };
  for (Task task : {Task{policy_->forget_schedule, state_.last_forget_tick, Action::kForget, "forget"},
                    Task{policy_->check_schedule, state_.last_check_tick, Action::kCheck, "check"}}) {
    if (!task.schedule) continue;
    auto latest = task.schedule->Next(task.last);
    if (!latest || *latest > now) continue;
    task.last = task.schedule->LastAtOrBefore(now).value_or(*latest);
    state_.running_task = task.name;
    out.push_back({task.kind, task.last, 1, false, ""});
    return;  // one at a time
  }
}

std::vector<Action> PolicyTimeline::Finished(int64_t now, Outcome outcome) {
  std::vector<Action> out;
  std::string task;
  task.swap(state_.running_task);
  state_.running_task.clear();
  if (task == "manual") {
    state_.last_end = now;
    state_.last_outcome = OutcomeName(outcome);
    if (outcome == Outcome::kOk || outcome == Outcome::kPartial) state_.last_success = now;
    return out;
  }
  if (task != "backup") return out;
  state_.last_end = now;
  state_.last_outcome = OutcomeName(outcome);
  switch (outcome) {
    case Outcome::kOk:
    case Outcome::kPartial:
      state_.last_success = now;
      [[fallthrough]];
    case Outcome::kSkipped:
      state_.running_tick = 0;
      state_.window_reported = false;
      return out;
    case Outcome::kInterrupted:
      state_.retry_at = now;  // resumed when the agent runs again, if the window still lasts
      return out;
    case Outcome::kFailed:
      break;
  }
  const int64_t retry_at = now + policy_->retry.DelayBefore(state_.attempt + 1);
  if (state_.attempt < policy_->retry.attempts && !state_.window_reported &&
      retry_at < policy_->Deadline(state_.running_tick)) {
    state_.retry_at = retry_at;
    return out;
  }
  if (!state_.window_reported) out.push_back({Action::kMissed, state_.running_tick, state_.attempt, false, kMissedFailed});
  state_.running_tick = 0;
  state_.window_reported = false;
  return out;
}

int64_t PolicyTimeline::NextWake(int64_t now) const {
  int64_t wake = INT64_MAX;
  const auto consider = [&](int64_t t) { wake = std::min(wake, std::max(t, now)); };
  if (state_.running_task == "backup") {
    if (!state_.window_reported) consider(policy_->Deadline(state_.running_tick));
  } else if (state_.retry_at) {
    consider(std::min(state_.retry_at, policy_->Deadline(state_.running_tick)));
  } else if (!running()) {
    for (const auto* s : {&policy_->forget_schedule, &policy_->check_schedule})
      if (*s)
        if (auto t = (*s)->Next(s == &policy_->forget_schedule ? state_.last_forget_tick : state_.last_check_tick)) consider(*t);
  }
  if (auto t = policy_->schedule->Next(state_.last_tick)) consider(policy_->StartTime(*t, host_));
  return wake;
}

}  // namespace backspan::agent
