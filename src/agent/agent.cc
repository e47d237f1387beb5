#include "agent/agent.h"

#include <nlohmann/json.hpp>

#include <chrono>

#include "env/env.h"
#include "notify/notify_config.h"
#include "trace/export/job_history.h"
#include "trace/semconv.h"
#include "util/interrupt.h"
#include "util/text.h"
#include "util/time_format.h"

namespace backspan::agent {
namespace {

using json = nlohmann::json;

std::string StatePath(const AgentConfig& c) { return c.state_dir + "/agent-state.json"; }
std::string SpoolDir(const AgentConfig& c) { return c.state_dir + "/spool"; }
std::string Rfc3339Seconds(int64_t s) { return s ? FormatRfc3339(s * 1000000000) : ""; }

}  // namespace

Agent::Agent(const AgentConfig* config, Env* env, std::function<void(const std::string&)> log)
    : config_(config), env_(env), log_(std::move(log)) {}

Agent::~Agent() {
  Stop();
  if (poller_.joinable()) poller_.join();
  for (auto& [name, slot] : slots_)
    if (slot.thread.joinable()) slot.thread.join();
  if (shipper_) shipper_->Stop();
}

int64_t Agent::NowSeconds() const { return env_->NowUnixNanos() / 1000000000; }

Status Agent::Open() {
  if (Status s = CreateDirs(env_, config_->state_dir); !s.ok()) return s.WithContext("agent state directory");
  ASSIGN_OR_RETURN(AgentState state, LoadAgentState(env_, StatePath(*config_)));
  spool_ = std::make_unique<trace::Spool>(env_, SpoolDir(*config_), config_->spool_limit_bytes);
  trace::SetAttribute(resource_.attributes, semconv::kServiceName, std::string("backspan"));
  trace::SetAttribute(resource_.attributes, semconv::kHostName, config_->host);
  // The agent's own spans: into the spool (one entry per span, durable at
  // once) and the agent's job history.
  exporter_ = std::make_unique<trace::SpoolExporter>(spool_.get(), "agent");
  auto fanout = std::make_unique<trace::MultiProcessor>();
  fanout->Add(std::make_unique<trace::SimpleProcessor>(&resource_, exporter_.get()));
  fanout->Add(std::make_unique<trace::JobHistoryProcessor>(&resource_, config_->state_dir + "/history", env_));
  // What leaves the host is redacted as the jobs redact theirs, with the
  // same key (the jobs' history directory), so hashed paths still meet on
  // one source.
  trace::RedactionConfig rc;
  rc.paths = *trace::ParseRedactAction(config_->trace_paths);
  for (const auto& rule : config_->trace_redact) rc.rules.push_back(*trace::ParseRedactionRule(rule));
  const bool hashing = rc.paths == trace::RedactAction::kHash ||
                       std::any_of(rc.rules.begin(), rc.rules.end(), [](const auto& r) { return r.action == trace::RedactAction::kHash; });
  if (hashing) rc.hash_key = trace::LoadHashKey(env_, config_->state_dir + "/history");
  redactor_ = std::make_unique<trace::Redactor>(rc);
  redactor_->Apply(resource_.attributes);
  processor_ = std::make_unique<trace::RedactionProcessor>(trace::Redactor(std::move(rc)), std::move(fanout));
  runner_ = std::make_unique<PolicyRunner>(config_, processor_.get(), env_, SpoolDir(*config_));
  client_ = std::make_unique<ObservatoryClient>(config_->observatory, env_);
  if (client_->configured()) shipper_ = std::make_unique<SpoolShipper>(spool_.get(), client_.get(), log_);
  if (!config_->notify_config.empty()) {
    ASSIGN_OR_RETURN(notify::NotifyConfig nc, notify::LoadNotifyConfig(env_, config_->notify_config));
    auto log = log_;
    notifier_ = std::make_unique<notify::Notifier>(std::move(nc), env_, config_->state_dir + "/notify-state.json",
                                                   [log](const notify::Delivery& d) {
                                                     if (!d.result.ok()) log("notification not delivered: " + d.result.message());
                                                   });
    RETURN_IF_ERROR(notifier_->Open());
  }

  const int64_t now = NowSeconds();
  for (const Policy& p : config_->policies) {
    if (!p.error.empty()) {
      log_(p.error + "; the policy is not run");
      any_failed_ = true;  // --once says so in its exit status
      continue;
    }
    if (p.paused) {
      log_("policy '" + p.name + "' is paused");
      continue;
    }
    PolicySlot& slot = slots_[p.name];
    slot.timeline = std::make_unique<PolicyTimeline>(&p, config_->host, state[p.name]);
    slot.timeline->Recover(now);
  }
  std::lock_guard<std::mutex> lock(mu_);
  SaveLocked();
  return Status::Ok();
}

void Agent::SaveLocked() {
  AgentState state;
  for (const auto& [name, slot] : slots_) state[name] = slot.timeline->state();
  if (Status s = SaveAgentState(env_, StatePath(*config_), state); !s.ok()) log_("cannot save the agent's state: " + s.message());
}

void Agent::Start(PolicySlot& slot, const Action& action, const std::string& trigger) {
  const Policy* policy = &slot.timeline->policy();
  slot.busy = true;
  if (slot.thread.joinable()) slot.thread.join();
  log_("policy '" + policy->name + "': " + ActionName(action.kind) +
       (action.kind == Action::kBackup && action.attempt > 1 ? " (attempt " + std::to_string(action.attempt) + ")" : "") +
       (action.catch_up ? " (catching up)" : "") + " for " + Rfc3339Seconds(action.tick));
  slot.thread = std::thread([this, &slot, policy, action, trigger] {
    RunResult result = runner_->Run(*policy, action, trigger);
    std::lock_guard<std::mutex> lock(mu_);
    slot.finished = std::pair{action, std::move(result)};
    cv_.notify_all();
  });
}

void Agent::Handle(PolicySlot& slot, const std::vector<Action>& actions, int64_t now) {
  for (const Action& a : actions) {
    if (a.kind == Action::kMissed) {
      log_("policy '" + slot.timeline->policy().name + "': missed its run of " + Rfc3339Seconds(a.tick) + " (" +
           a.reason + ")");
      runner_->ReportMissed(slot.timeline->policy(), a, now);
      Notify(slot.timeline->policy(), a, Outcome::kFailed, nullptr);
      any_failed_ = true;
    } else {
      Start(slot, a, "schedule");
    }
  }
}

void Agent::Step() {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = NowSeconds();
  bool changed = false;
  for (auto& [name, slot] : slots_) {
    if (slot.finished) {
      auto [action, result] = std::move(*slot.finished);
      slot.finished.reset();
      slot.busy = false;
      log_("policy '" + name + "': " + ActionName(action.kind) + " " + OutcomeName(result.outcome) +
           (result.message.empty() ? "" : ": " + result.message) + " (trace " + result.trace_id + ")");
      if (action.kind == Action::kBackup && result.outcome == Outcome::kPartial) any_partial_ = true;
      else if (result.outcome != Outcome::kOk && result.outcome != Outcome::kSkipped) any_failed_ = true;
      if (action.kind == Action::kBackup) Notify(slot.timeline->policy(), action, result.outcome, &result);
      Handle(slot, slot.timeline->Finished(now, result.outcome), now);
      changed = true;
    }
    if (stop_ || slot.busy) {
      if (slot.busy) {
        auto actions = slot.timeline->Poll(now);  // skipped ticks and overruns
        changed |= !actions.empty();
        Handle(slot, actions, now);
      }
      continue;
    }
    if (!slot.asked.empty() && slot.timeline->StartManual(slot.asked.front().first.kind)) {
      auto [action, by] = std::move(slot.asked.front());
      slot.asked.pop_front();
      action.tick = now;
      Start(slot, action, by);
      changed = true;
      continue;
    }
    auto actions = slot.timeline->Poll(now);
    changed |= !actions.empty();
    Handle(slot, actions, now);
  }
  if (changed) {
    (void)processor_->ForceFlush(env_->MonotonicNanos() + 5'000'000'000);  // the job history
    SaveLocked();
    if (shipper_) shipper_->Notify();
  }
}

int Agent::RunOnce(int64_t deliver_timeout_ms) {
  Step();
  for (;;) {
    std::unique_lock<std::mutex> lock(mu_);
    bool busy = false;
    for (auto& [name, slot] : slots_) busy |= slot.busy;
    if (!busy) break;
    cv_.wait_for(lock, std::chrono::milliseconds(200));
    lock.unlock();
    if (InterruptRequested()) Stop();
    // Finished runs are handled here (a failed run's retry waits for the next --once).
    Step();
  }
  Step();
  SendHeartbeat();
  if (notifier_) notifier_->Drain(deliver_timeout_ms);
  if (shipper_) {
    const int64_t until = env_->MonotonicNanos() + deliver_timeout_ms * 1000000;
    while (!shipper_->DeliverAll() && env_->MonotonicNanos() < until) SleepUnlessInterrupted(500'000'000);
  }
  return any_failed_ ? 1 : any_partial_ ? 3 : 0;
}

int Agent::RunUntilStopped() {
  if (shipper_) shipper_->Start();
  if (client_->configured()) poller_ = std::thread([this] { PollRequests(); });
  int64_t next_heartbeat = 0;
  for (;;) {
    if (InterruptRequested()) Stop();
    Step();
    const int64_t now = NowSeconds();
    if (now >= next_heartbeat) {
      SendHeartbeat();
      next_heartbeat = now + config_->observatory.heartbeat_seconds;
    }
    std::unique_lock<std::mutex> lock(mu_);
    bool busy = false;
    int64_t wake = next_heartbeat;
    for (auto& [name, slot] : slots_) {
      busy |= slot.busy;
      wake = std::min(wake, slot.timeline->NextWake(now));
    }
    if (stop_ && !busy) break;
    // Wake for the next thing due, a finished run, or at least every
    // second to notice a signal.
    const int64_t wait_s = std::clamp<int64_t>(wake - now, 0, 1);
    cv_.wait_for(lock, std::chrono::milliseconds(wait_s ? 1000 : 50),
                 [&] { return stop_ || std::any_of(slots_.begin(), slots_.end(), [](const auto& s) { return s.second.finished.has_value(); }); });
  }
  Step();  // the interrupted runs are recorded
  SendHeartbeat();
  if (shipper_) {
    shipper_->Stop();
    shipper_->DeliverAll();
  }
  return 0;
}

void Agent::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
    cv_.notify_all();
  }
  if (runner_) runner_->Stop();
}

std::string Agent::HeartbeatJson() const {
  std::lock_guard<std::mutex> lock(mu_);
  json policies = json::array();
  const int64_t now = NowSeconds();
  for (const Policy& p : config_->policies) {
    // The paths as the jobs' spans carry them (kept, hashed or dropped).
    trace::Attributes paths = {{semconv::kPaths, trace::StringArray(p.paths)}};
    redactor_->Apply(paths);
    const auto* redacted = trace::FindAttribute(paths, semconv::kPaths);
    json j = {{"name", p.name},
              {"repository", p.repository},
              {"paths", redacted ? std::get<trace::StringArray>(*redacted) : trace::StringArray{}}};
    json tags = json::object();
    for (const auto& [k, v] : p.tags) tags[k] = v;
    j["tags"] = tags;
    if (!p.error.empty()) {
      j["error"] = p.error;
      policies.push_back(j);
      continue;
    }
    j["schedule"] = p.schedule->text();
    j["paused"] = p.paused;
    j["restores"] = !p.restore_root.empty();
    j["timezone"] = p.schedule->zone().name();
    if (p.grace_seconds) j["grace_seconds"] = p.grace_seconds;
    auto it = slots_.find(p.name);
    if (it != slots_.end()) {
      const PolicyState& s = it->second.timeline->state();
      if (auto next = p.schedule->Next(std::max(s.last_tick, now))) {
        j["next_run"] = Rfc3339Seconds(p.StartTime(*next, config_->host));
        j["next_deadline"] = Rfc3339Seconds(p.Deadline(*next));
      }
      if (auto last = p.schedule->LastAtOrBefore(now)) j["window_seconds"] = p.Deadline(*last) - *last;
      j["running"] = it->second.busy;
      if (s.last_success) j["last_success"] = Rfc3339Seconds(s.last_success);
      if (!s.last_outcome.empty()) j["last_outcome"] = s.last_outcome;
    }
    policies.push_back(j);
  }
  json spool = {{"dropped", spool_ ? spool_->dropped() : 0}};
  if (spool_)
    if (auto entries = spool_->List(); entries.ok()) {
      int64_t bytes = 0;
      for (const auto& e : *entries) bytes += e.bytes;
      spool["entries"] = entries->size();
      spool["bytes"] = bytes;
      spool["limit_bytes"] = config_->spool_limit_bytes;
    }
  return json{{"agent", config_->host},
              {"host", config_->host},
              {"time", Rfc3339Seconds(now)},
              {"interval_seconds", config_->observatory.heartbeat_seconds},
              {"stopping", stop_},
              {"spool", spool},
              {"policies", policies}}
      .dump();
}

void Agent::Notify(const Policy& policy, const Action& action, Outcome outcome, const RunResult* result) {
  if (!notifier_) return;
  notify::Event e;
  if (action.kind == Action::kMissed) e.kind = notify::EventKind::kMissed;
  else if (outcome == Outcome::kOk) e.kind = notify::EventKind::kRecovered;
  else if (outcome == Outcome::kPartial) e.kind = notify::EventKind::kPartial;
  else if (outcome == Outcome::kFailed) e.kind = notify::EventKind::kFailure;
  else return;  // skipped or interrupted: not news
  e.key = policy.name;
  e.host = config_->host;
  for (const auto& p : policy.paths) e.paths += (e.paths.empty() ? "" : " ") + p;
  e.tags = policy.tags;
  for (const auto& [k, v] : policy.tags)
    if (k == semconv::kAzureResourceGroupName) e.resource_group = v;
  e.job_kind = "backup";
  e.detail = action.kind == Action::kMissed ? "missed: " + action.reason : result ? result->message : "";
  if (result) e.trace_id = result->trace_id;
  e.time_ns = env_->NowUnixNanos();
  notifier_->Publish(std::move(e));
}

void Agent::PollRequests() {
  int64_t backoff_ms = 1000;
  // A short wait: stopping the agent waits for the poll in flight.
  const std::string path = "/api/v1/agents/" + PercentEncode(config_->host) + "/requests?wait=10s";
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    auto resp = client_->Send("GET", path, "", "", 20'000);
    const bool ok = resp.ok() && resp->status == 200;
    if (ok) {
      backoff_ms = 1000;
      const json j = json::parse(resp->body, nullptr, false);
      std::lock_guard<std::mutex> lock(mu_);
      if (j.is_object() && j.contains("requests") && j["requests"].is_array())
        for (const auto& r : j["requests"]) {
          // Fields of another type read as absent: the answer is outside input.
          const auto text = [&](const char* key, const char* fallback) {
            return r.is_object() && r.contains(key) && r[key].is_string() ? r[key].get<std::string>() : std::string(fallback);
          };
          const std::string policy = text("policy", ""), by = text("requested_by", ""), what = text("action", "backup");
          auto slot = slots_.find(policy);
          if (slot == slots_.end() || (what != "backup" && what != "restore") ||
              (what == "restore" && slot->second.timeline->policy().restore_root.empty())) {
            log_("ignoring a request to " + what + " policy '" + policy + "': no such policy or action here");
            continue;
          }
          Action action{what == "backup" ? Action::kBackup : Action::kRestore, 0, 1, false, ""};
          action.snapshot = text("snapshot", "latest");
          action.target = text("target", "");
          log_("policy '" + policy + "': " + what + " requested by " + by);
          slot->second.asked.emplace_back(std::move(action), by.empty() ? "api" : by);
        }
      cv_.notify_all();
      continue;
    }
    // The observatory is away or refuses: ask again later, or when stopping.
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(backoff_ms), [&] { return stop_; });
    backoff_ms = std::min<int64_t>(backoff_ms * 2, 60'000);
  }
}

void Agent::SendHeartbeat() {
  if (!client_ || !client_->configured()) return;
  const std::string body = HeartbeatJson();
  if (Status s = spool_->Append(trace::kSpoolHeartbeat, AsBytes(body)); !s.ok()) log_("cannot spool a heartbeat: " + s.message());
  if (shipper_) shipper_->Notify();
}

}  // namespace backspan::agent
