// The agent's configuration file (TOML; docs/agent.md has a full example):
// where the agent keeps its state, the observatory it reports to, and the
// policies it runs. A broken policy does not stop the others: it carries a
// one-line error naming itself and the field, and is not run.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "schedule/schedule.h"
#include "util/status.h"

namespace backspan {
class Env;
}

namespace backspan::agent {

struct RetryPolicy {
  int attempts = 1;             // in all, the first included: 1 never retries
  int64_t delay_seconds = 300;  // before the first retry
  double backoff = 2.0;         // each further delay is this many times the last
  int64_t max_delay_seconds = 3600;
  // The wait before attempt `attempt` (2 = the first retry).
  int64_t DelayBefore(int attempt) const;
};

// Shell commands run around a backup (/bin/sh -c), as borgmatic runs its
// hooks: a failing `before` skips the backup and fails the run (exit 75
// skips it without failing); `after` runs after a successful backup;
// `on_error` after a failed run.
struct Hooks {
  std::vector<std::string> before, after, on_error;
};

struct Policy {
  std::string name;
  std::string repository;  // a location, as `backspan -r` takes it
  std::string password_file, password_command;  // one of them
  std::vector<std::string> paths, excludes;
  std::vector<std::pair<std::string, std::string>> tags;  // e.g. azure.resource_group.name=rg-web
  std::map<std::string, std::string> retention;            // forget's options without "--"
  std::optional<schedule::Schedule> schedule;
  int64_t random_delay_seconds = 0;  // each run starts up to this late, the same for a tick every time
  // The window: a run must have ended `window_seconds` after its tick, or by
  // the wall-clock time `done_by` ("05:00") after it; by default before the
  // next tick.
  int64_t window_seconds = 0;
  std::optional<std::pair<int, int>> done_by;  // hour, minute
  int64_t grace_seconds = 0;  // how late a run may be before the observatory says overdue
  Hooks hooks;
  RetryPolicy retry;
  std::optional<schedule::Schedule> forget_schedule;  // forget --prune by `retention`
  std::optional<schedule::Schedule> check_schedule;   // check --read-data-subset
  std::string check_subset = "5%";

  std::string restore_root;  // "restore" requests restore into new directories below it; empty: none
  bool paused = false;  // not run; the observatory shows its source as paused
  std::string error;   // why the policy cannot run; empty if it can

  // When the run that serves `tick` must have ended.
  int64_t Deadline(int64_t tick) const;
  // When the run for `tick` starts: the tick plus its random delay.
  int64_t StartTime(int64_t tick, const std::string& host) const;
};

struct ObservatoryConfig {
  std::string url;         // e.g. https://observatory:8443; empty: no observatory
  std::string token_file;  // a bearer token (the ingest token, or a long-lived one)
  // OIDC client credentials, instead of token_file.
  std::string oidc_token_url, oidc_client_id, oidc_client_secret_file, oidc_scope;
  int64_t heartbeat_seconds = 60;
};

struct AgentConfig {
  std::string path;        // the file it was read from
  std::string host;        // host.name on every job; default: this host's name
  std::string state_dir;   // the agent's state, spool and job history
  std::string program;     // the backspan binary jobs run; default: this one
  int64_t spool_limit_bytes = int64_t{256} << 20;
  // What leaves the host in traces (docs/tracing.md, "Redaction"): file
  // paths kept, hashed or dropped, and KEY_GLOB=keep|hash|drop rules; for the
  // agent's spans and heartbeats and the jobs it runs alike.
  std::string trace_paths = "keep";
  std::vector<std::string> trace_redact;
  // Notification channels and rules (docs/notifications.md) the agent uses
  // itself, for hosts without an observatory; empty: none.
  std::string notify_config;
  ObservatoryConfig observatory;
  std::vector<Policy> policies;

  const Policy* Find(const std::string& name) const;
};

// Reads and checks the file at `path`. InvalidArgument naming the line for
// a file that is not valid TOML or has a bad [agent] or [observatory]
// table; a bad policy is returned with its `error` set. `default_program`
// is this binary; `default_host` the host's name.
Result<AgentConfig> LoadAgentConfig(Env* env, const std::string& path, const std::string& default_program,
                                    const std::string& default_host);

}  // namespace backspan::agent
