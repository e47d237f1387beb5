#include "agent/policy_run.h"

#include <signal.h>

#include <algorithm>
#include <map>

#include "crypto/crypto.h"
#include "env/env.h"
#include "trace/semconv.h"
#include "util/text.h"
#include "util/time_format.h"
#include "wrap/child_process.h"

namespace backspan::agent {
namespace {

// borgmatic's soft failure: a before hook exiting 75 skips the run, no error.
constexpr int kHookSkipExit = 75;
constexpr int kExitPartial = 3, kExitInterrupted = 130;

std::string Rfc3339Seconds(int64_t unix_seconds) { return FormatRfc3339(unix_seconds * 1000000000); }

}  // namespace

PolicyRunner::PolicyRunner(const AgentConfig* config, trace::SpanProcessor* processor, Env* env, std::string spool_dir)
    : config_(config), processor_(processor), env_(env), spool_dir_(std::move(spool_dir)) {}

void PolicyRunner::SetPolicyAttributes(trace::Span& span, const Policy& policy) const {
  span.SetAttribute(semconv::kPolicyName, policy.name);
  span.SetAttribute(semconv::kHostName, config_->host);
  span.SetAttribute(semconv::kRepository, policy.repository);
  span.SetAttribute(semconv::kPaths, trace::StringArray(policy.paths));
  trace::StringArray tags;
  for (const auto& [k, v] : policy.tags) {
    span.SetAttribute(k, v);  // where the run is visible: its resource group and tags
    tags.push_back(k + "=" + v);
  }
  if (!tags.empty()) span.SetAttribute(semconv::kTags, std::move(tags));
}

std::vector<std::string> PolicyRunner::JobArgs(const Policy& policy, const Action& action) const {
  std::vector<std::string> argv = {config_->program, "--json", "--trace-paths", config_->trace_paths};
  for (const auto& rule : config_->trace_redact) argv.insert(argv.end(), {"--trace-redact", rule});
  argv.insert(argv.end(), {"-r", policy.repository});
  if (!policy.password_file.empty()) argv.insert(argv.end(), {"--password-file", policy.password_file});
  else argv.insert(argv.end(), {"--password-command", policy.password_command});
  switch (action.kind) {
    case Action::kBackup:
      argv.push_back("backup");
      for (const auto& e : policy.excludes) argv.insert(argv.end(), {"--exclude", e});
      for (const auto& [k, v] : policy.tags) argv.insert(argv.end(), {"--tag", k + "=" + v});
      argv.insert(argv.end(), policy.paths.begin(), policy.paths.end());
      break;
    case Action::kForget:
      argv.push_back("forget");
      for (const auto& [k, v] : policy.tags) argv.insert(argv.end(), {"--tag", k + "=" + v});
      for (const auto& [option, value] : policy.retention) argv.insert(argv.end(), {"--" + option, value});
      argv.push_back("--prune");
      break;
    case Action::kCheck:
      argv.insert(argv.end(), {"check", "--read-data-subset", policy.check_subset});
      break;
    case Action::kRestore:
      // The policy's own snapshots (its host and tags), into a new directory.
      argv.insert(argv.end(), {"restore", action.snapshot, "--target", policy.restore_root + "/" + action.target,
                               "--host", config_->host});
      for (const auto& [k, v] : policy.tags) argv.insert(argv.end(), {"--tag", k + "=" + v});
      break;
    case Action::kMissed:
      break;
  }
  return argv;
}

int PolicyRunner::RunProcess(const std::vector<std::string>& argv, std::vector<std::string> environment,
                             std::string* last_line) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return kExitInterrupted;
  }
  wrap::ChildOptions options;
  options.pass_through = false;
  options.null_stdin = true;
  options.environment = std::move(environment);
  options.on_stdout = [&](std::string_view line) {
    if (!line.empty() && last_line) last_line->assign(line.substr(0, 2000));
  };
  options.on_stderr = [&](std::string_view line) {
    if (!line.empty() && last_line && (line.front() != '{')) last_line->assign(line.substr(0, 2000));
  };
  int pid = 0;
  options.on_start = [&](int p) {
    std::lock_guard<std::mutex> lock(mu_);
    pid = p;
    pids_.insert(p);
    if (stopping_) kill(p, SIGTERM);
  };
  auto code = wrap::RunChild(argv, options);
  std::lock_guard<std::mutex> lock(mu_);
  pids_.erase(pid);
  if (!code.ok()) {
    if (last_line) *last_line = code.status().message();
    return 127;
  }
  return *code;
}

PolicyRunner::HookResult PolicyRunner::RunHooks(const Policy& policy, const std::vector<std::string>& commands,
                                                const char* kind, const trace::Span& parent, const std::string& status,
                                                std::string* message) {
  for (size_t i = 0; i < commands.size(); ++i) {
    trace::Span span = parent.StartChild(std::string("hook ") + kind);
    span.SetAttribute(semconv::kHookKind, kind);
    span.SetAttribute(semconv::kHookIndex, int64_t(i));
    std::string output;
    const int code = RunProcess({"/bin/sh", "-c", commands[i]},
                                {"TRACEPARENT=" + span.context().ToTraceparent(), "TRACESTATE=",
                                 "BACKSPAN_POLICY=" + policy.name, "BACKSPAN_REPOSITORY=" + policy.repository,
                                 "BACKSPAN_HOOK=" + std::string(kind), "BACKSPAN_RUN_STATUS=" + status},
                                &output);
    span.SetAttribute(semconv::kProcessExitCode, int64_t(code));
    if (code == kHookSkipExit && std::string_view(kind) == "before") {
      *message = "before hook " + std::to_string(i + 1) + " asked to skip the run (exit 75)";
      return HookResult::kSkip;
    }
    if (code != 0) {
      *message = std::string(kind) + " hook " + std::to_string(i + 1) + " exited with " + std::to_string(code) +
                 (output.empty() ? "" : ": " + output);
      span.RecordError(Status::IOError(*message));
      return HookResult::kFail;
    }
  }
  return HookResult::kOk;
}

std::vector<std::string> PolicyRunner::JobEnvironment(const Policy& policy, const Action& action,
                                                     const trace::Span& run) const {
  // The job's own root span carries the window's end too, so the
  // observatory can forecast overruns of the job itself.
  std::string resource = std::string(semconv::kPolicyName) + "=" + PercentEncode(policy.name);
  if (policy.schedule && action.kind == Action::kBackup)
    resource += std::string(",") + semconv::kJobDeadline + "=" + PercentEncode(Rfc3339Seconds(policy.Deadline(action.tick)));
  return {
      "TRACEPARENT=" + run.context().ToTraceparent(),
      "TRACESTATE=",
      "BACKSPAN_OTLP_SPOOL=" + spool_dir_,
      "BACKSPAN_OTLP_SPOOL_LIMIT_MIB=" + std::to_string(config_->spool_limit_bytes >> 20),
      "BACKSPAN_HOST=" + config_->host,
      "BACKSPAN_STATE_DIR=" + config_->state_dir + "/history",
      "OTEL_SDK_DISABLED=false",
      "OTEL_SERVICE_NAME=backspan",  // the service the heartbeat declares the policy's source under
      "OTEL_RESOURCE_ATTRIBUTES=" + resource,
  };
}

RunResult PolicyRunner::Run(const Policy& policy, const Action& action, const std::string& trigger) {
  // A tracer per run: its span bound is per job.
  trace::Tracer tracer(processor_, env_);
  trace::Span run = tracer.StartSpan(semconv::kJobKindAgentRun);
  run.SetAttribute(semconv::kJobKind, semconv::kJobKindAgentRun);
  SetPolicyAttributes(run, policy);
  run.SetAttribute(semconv::kAgentTask, ActionName(action.kind));
  run.SetAttribute(semconv::kAgentTrigger, trigger);
  run.SetAttribute(semconv::kScheduleTick, Rfc3339Seconds(action.tick));
  const bool backup = action.kind == Action::kBackup;
  if (backup) {
    run.SetAttribute(semconv::kAgentAttempt, int64_t(action.attempt));
    run.SetAttribute(semconv::kAgentCatchUp, action.catch_up);
    if (policy.schedule) run.SetAttribute(semconv::kJobDeadline, Rfc3339Seconds(policy.Deadline(action.tick)));
  }
  RunResult result;
  result.trace_id = trace::ToHex(run.context().trace_id);
  const auto finish = [&](Outcome outcome, const std::string& message) {
    result.outcome = outcome;
    result.message = message;
    run.SetAttribute(semconv::kJobStatus, OutcomeName(outcome));
    if (outcome == Outcome::kFailed) run.RecordError(Status::IOError(message));
    else if (outcome == Outcome::kInterrupted) run.RecordError(Status::Interrupted(message));
    else run.SetOk();
    return result;
  };

  if (backup) {
    std::string message;
    switch (RunHooks(policy, policy.hooks.before, "before", run, "", &message)) {
      case HookResult::kSkip:
        return finish(Outcome::kSkipped, message);
      case HookResult::kFail: {
        std::string ignored;
        RunHooks(policy, policy.hooks.on_error, "on_error", run, OutcomeName(Outcome::kFailed), &ignored);
        return finish(Outcome::kFailed, message + "; the backup did not run");
      }
      case HookResult::kOk:
        break;
    }
  }
  std::string last_line;
  const int code = RunProcess(JobArgs(policy, action), JobEnvironment(policy, action, run), &last_line);
  result.exit_code = code;
  run.SetAttribute(semconv::kProcessExitCode, int64_t(code));
  Outcome outcome = code == 0 ? Outcome::kOk
                    : code == kExitPartial ? Outcome::kPartial
                    : code == kExitInterrupted || code == 128 + SIGTERM || code == 128 + SIGINT ? Outcome::kInterrupted
                                                                                                  : Outcome::kFailed;
  std::string message = outcome == Outcome::kOk ? "" : ActionName(action.kind) + std::string(" exited with ") +
                                                            std::to_string(code) + (last_line.empty() ? "" : ": " + last_line);
  if (backup && (outcome == Outcome::kOk || outcome == Outcome::kPartial)) {
    std::string hook_message;
    if (RunHooks(policy, policy.hooks.after, "after", run, OutcomeName(outcome), &hook_message) != HookResult::kOk) {
      outcome = Outcome::kPartial;  // the snapshot is there; something after it failed
      message = hook_message;
    }
  } else if (backup && outcome == Outcome::kFailed) {
    std::string ignored;
    RunHooks(policy, policy.hooks.on_error, "on_error", run, OutcomeName(outcome), &ignored);
  }
  return finish(outcome, message);
}

void PolicyRunner::ReportMissed(const Policy& policy, const Action& missed, int64_t now) {
  trace::SpanData s;
  crypto::RandomBytes(s.trace_id.data(), s.trace_id.size());
  crypto::RandomBytes(s.span_id.data(), s.span_id.size());
  s.name = semconv::kJobKindMissed;
  s.start_ns = missed.tick * 1000000000;
  s.end_ns = std::max(now, missed.tick) * 1000000000;
  const std::string tick_text = Rfc3339Seconds(missed.tick);
  const auto set = [&](std::string_view key, trace::AttributeValue value) { trace::SetAttribute(s.attributes, key, std::move(value)); };
  set(semconv::kJobKind, std::string(semconv::kJobKindMissed));
  set(semconv::kPolicyName, policy.name);
  set(semconv::kHostName, config_->host);
  set(semconv::kRepository, policy.repository);
  set(semconv::kPaths, trace::StringArray(policy.paths));
  trace::StringArray tags;
  for (const auto& [k, v] : policy.tags) {
    set(k, v);
    tags.push_back(k + "=" + v);
  }
  if (!tags.empty()) set(semconv::kTags, std::move(tags));
  set(semconv::kScheduleTick, tick_text);
  if (policy.schedule) set(semconv::kJobDeadline, Rfc3339Seconds(policy.Deadline(missed.tick)));
  set(semconv::kMissedReason, missed.reason);
  if (missed.missed_before) set(semconv::kMissedEarlier, missed.missed_before);
  set(semconv::kErrorType, std::string(semconv::kJobKindMissed));
  s.status = trace::StatusCode::kError;
  static const std::map<std::string, std::string> kWhy = {
      {kMissedAgentDown, "the agent was not running"},
      {kMissedFailed, "every attempt failed"},
      {kMissedOverrun, "the run was still going when its window ended"},
      {kMissedSkipped, "the previous run was still going"},
  };
  const auto why = kWhy.find(missed.reason);
  s.status_message = "no backup of policy '" + policy.name + "' for its run of " + tick_text + ": " +
                     (why == kWhy.end() ? missed.reason : why->second);
  processor_->OnEnd(std::move(s));
}

void PolicyRunner::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = true;
  for (int pid : pids_) kill(pid, SIGTERM);
}

}  // namespace backspan::agent
