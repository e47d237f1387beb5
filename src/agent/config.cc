#include "agent/config.h"

#include "config/toml_reader.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <functional>
#include <set>

#include "crypto/crypto.h"
#include "env/env.h"
#include "retention/policy_values.h"
#include "trace/redactor.h"
#include "util/time_format.h"

namespace backspan::agent {
namespace {

using config::TableReader;

bool IsPolicyName(const std::string& s) {
  return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

std::optional<schedule::Schedule> ReadSchedule(TableReader& r, const char* key, const std::string& zone,
                                               bool required) {
  const std::string text = r.Text(key, required);
  if (text.empty()) return std::nullopt;
  auto s = schedule::Schedule::Parse(text, zone);
  if (!s.ok()) {
    r.Fail(std::string(key) + ": " + s.status().message());
    return std::nullopt;
  }
  return std::move(*s);
}

std::optional<std::pair<int, int>> ParseClock(const std::string& text) {
  int h = -1, m = -1;
  char extra = 0;
  if (std::sscanf(text.c_str(), "%d:%d%c", &h, &m, &extra) != 2 || h < 0 || h > 23 || m < 0 || m > 59) return std::nullopt;
  return std::pair{h, m};
}

void ReadRetention(TableReader& r, Policy& p) {
  const toml::table* t = r.Table("retention");
  if (!t) return;
  for (const auto& [key, value] : *t) {
    const std::string k(key.str());
    std::string text;
    if (value.is_integer()) text = std::to_string(value.as_integer()->get());
    else if (value.is_string()) text = value.as_string()->get();
    if (Status s = CheckRetentionOption(k, text); !s.ok()) return r.Fail("retention: " + s.message());
    p.retention[k] = text;
  }
}

void ReadTags(TableReader& r, Policy& p) {
  for (auto& [k, v] : r.StringTable("tags")) {
    if (k.find_first_of("=,") != std::string::npos || v.find(',') != std::string::npos)
      return r.Fail("tags: '" + k + "' must not hold '=' or ',' in its name or ',' in its value");
    p.tags.emplace_back(std::move(k), std::move(v));
  }
}

// The window may not reach the next tick: runs of a policy never overlap.
void CheckWindow(TableReader& r, const Policy& p) {
  if (!p.schedule || (!p.window_seconds && !p.done_by)) return;
  int64_t tick = *p.schedule->Next(1767225600);  // from 2026-01-01: a year of ticks, DST included
  for (int i = 0; i < 400; ++i) {
    auto next = p.schedule->Next(tick);
    if (!next) return;
    if (p.Deadline(tick) > *next) {
      const auto civil = p.schedule->zone().ToCivil(tick).ToString();
      return r.Fail(std::string(p.done_by ? "done_by" : "window") + ": the run of " + civil +
                    " would still be in its window when the next run is due; windows must not overlap");
    }
    tick = *next;
  }
}

Policy ReadPolicy(Env* env, const toml::table* table, size_t index, const std::set<std::string>& names_before) {
  Policy p;
  TableReader r(table, "policy " + std::to_string(index + 1));
  p.name = r.Text("name", true);
  if (!p.name.empty()) {
    r = TableReader(table, "policy '" + p.name + "'");
    r.Text("name");
    if (!IsPolicyName(p.name)) r.Fail("name: only letters, digits, '.', '-' and '_' are allowed");
    if (names_before.count(p.name)) r.Fail("name: another policy has this name");
  }
  p.repository = r.Text("repository", true);
  p.password_file = r.Text("password_file");
  p.password_command = r.Text("password_command");
  if (p.password_file.empty() == p.password_command.empty())
    r.Fail("set one of password_file and password_command");
  if (!p.password_file.empty() && !env->Exists(p.password_file))
    r.Fail("password_file: " + p.password_file + " does not exist");
  p.paths = r.List("paths");
  if (r.ok() && p.paths.empty()) r.Fail("paths: at least one path is needed");
  for (const auto& path : p.paths)
    if (path[0] != '/') r.Fail("paths: '" + path + "' is not absolute");
  p.excludes = r.List("exclude");
  ReadTags(r, p);
  ReadRetention(r, p);
  const std::string zone = r.Text("timezone");
  p.schedule = ReadSchedule(r, "schedule", zone, true);
  p.random_delay_seconds = r.Duration("random_delay", 0);
  p.window_seconds = r.Duration("window", 0);
  if (const std::string done_by = r.Text("done_by"); !done_by.empty()) {
    p.done_by = ParseClock(done_by);
    if (!p.done_by) r.Fail("done_by '" + done_by + "' is not a time of day such as 05:00");
    if (p.window_seconds) r.Fail("set window or done_by, not both");
  }
  p.grace_seconds = r.Duration("grace", 0);
  p.paused = r.Boolean("paused", false);
  p.restore_root = r.Text("restore_root");
  if (!p.restore_root.empty() && p.restore_root[0] != '/') r.Fail("restore_root: '" + p.restore_root + "' is not absolute");
  r.Nested("hooks", [&](TableReader& h) {
    p.hooks.before = h.List("before");
    p.hooks.after = h.List("after");
    p.hooks.on_error = h.List("on_error");
  });
  r.Nested("retry", [&](TableReader& t) {
    p.retry.attempts = int(t.Integer("attempts", 1, 1, 100));
    p.retry.delay_seconds = t.Duration("delay", p.retry.delay_seconds);
    p.retry.backoff = t.Number("backoff", p.retry.backoff, 1, 10);
    p.retry.max_delay_seconds = t.Duration("max_delay", p.retry.max_delay_seconds);
  });
  r.Nested("forget", [&](TableReader& t) { p.forget_schedule = ReadSchedule(t, "schedule", zone, false); });
  if (p.forget_schedule && p.retention.empty()) r.Fail("forget: a schedule needs a retention policy");
  r.Nested("check", [&](TableReader& t) {
    p.check_schedule = ReadSchedule(t, "schedule", zone, false);
    if (std::string subset = t.Text("read_data_subset"); !subset.empty()) p.check_subset = subset;
  });
  r.RejectUnknown();
  if (r.ok()) CheckWindow(r, p);
  if (!r.ok()) p.error = r.error().message();
  if (p.name.empty()) p.name = "policy-" + std::to_string(index + 1);
  return p;
}

Status ReadObservatory(const toml::table* table, ObservatoryConfig& o) {
  TableReader r(table, "[observatory]");
  o.url = r.Text("url");
  o.token_file = r.Text("token_file");
  o.oidc_token_url = r.Text("oidc_token_url");
  o.oidc_client_id = r.Text("oidc_client_id");
  o.oidc_client_secret_file = r.Text("oidc_client_secret_file");
  o.oidc_scope = r.Text("oidc_scope");
  o.heartbeat_seconds = r.Duration("heartbeat", o.heartbeat_seconds);
  if (!o.url.empty() && o.token_file.empty() && o.oidc_client_id.empty())
    r.Fail("set token_file, or oidc_token_url with oidc_client_id and oidc_client_secret_file");
  if (!o.oidc_client_id.empty() && (o.oidc_token_url.empty() || o.oidc_client_secret_file.empty()))
    r.Fail("oidc_client_id needs oidc_token_url and oidc_client_secret_file");
  if (o.heartbeat_seconds < 5) r.Fail("heartbeat must be at least 5s");
  r.RejectUnknown();
  return r.error();
}

}  // namespace

int64_t RetryPolicy::DelayBefore(int attempt) const {
  double d = double(delay_seconds) * std::pow(backoff, std::max(0, attempt - 2));
  return std::min<int64_t>(max_delay_seconds, int64_t(d));
}

int64_t Policy::Deadline(int64_t tick) const {
  if (window_seconds) return tick + window_seconds;
  if (done_by) {
    // The first done_by wall-clock time after the tick.
    auto civil = schedule->zone().ToCivil(tick);
    civil.hour = done_by->first, civil.minute = done_by->second;
    for (int day = 0; day < 3; ++day) {
      const int64_t at = schedule->zone().FromCivil(civil).first;
      if (at > tick) return at;
      civil = schedule::CivilMinute::FromOrdinal(civil.Ordinal() + 1440);
    }
  }
  auto next = schedule->Next(tick);
  return next ? *next : tick + 86400;
}

int64_t Policy::StartTime(int64_t tick, const std::string& host) const {
  if (random_delay_seconds <= 0) return tick;
  // A delay drawn from the host, policy and tick: spread across hosts,
  // and the same if the agent restarts.
  const auto digest = crypto::Sha256(AsBytes(host + "\x1f" + name + "\x1f" + std::to_string(tick)));
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | digest[i];
  return tick + int64_t(v % uint64_t(random_delay_seconds + 1));
}

const Policy* AgentConfig::Find(const std::string& name) const {
  for (const auto& p : policies)
    if (p.name == name) return &p;
  return nullptr;
}

Result<AgentConfig> LoadAgentConfig(Env* env, const std::string& path, const std::string& default_program,
                                    const std::string& default_host) {
  ASSIGN_OR_RETURN(toml::table root, config::ParseTomlFile(env, path));
  AgentConfig config;
  config.path = path;
  TableReader top(&root, path);
  const toml::table* agent = top.Table("agent");
  const toml::table* observatory = top.Table("observatory");
  const toml::node* policies = root.get("policy");
  top.Known("policy");
  top.RejectUnknown();
  if (!top.ok()) return top.error();
  if (policies && !policies->is_array_of_tables())
    return Status::InvalidArgument(path + ": policies are [[policy]] tables");

  TableReader a(agent, "[agent]");
  config.host = a.Text("host");
  if (config.host.empty()) config.host = default_host;
  config.state_dir = a.Text("state_dir", true);
  config.program = a.Text("program");
  config.notify_config = a.Text("notify_config");
  if (std::string paths = a.Text("trace_paths"); !paths.empty()) config.trace_paths = paths;
  if (!trace::ParseRedactAction(config.trace_paths).ok()) a.Fail("trace_paths must be keep, hash or drop");
  config.trace_redact = a.List("trace_redact");
  for (const auto& rule : config.trace_redact)
    if (auto r = trace::ParseRedactionRule(rule); !r.ok()) a.Fail("trace_redact: " + r.status().message());
  if (config.program.empty()) config.program = default_program;
  config.spool_limit_bytes = a.Integer("spool_limit_mib", 256, 1, 1 << 20) << 20;
  a.RejectUnknown();
  if (!a.ok()) return a.error();
  if (Status s = ReadObservatory(observatory, config.observatory); !s.ok()) return s;

  std::set<std::string> names;
  if (policies)
    for (const toml::node& node : *policies->as_array()) {
      config.policies.push_back(ReadPolicy(env, node.as_table(), config.policies.size(), names));
      names.insert(config.policies.back().name);
    }
  return config;
}

}  // namespace backspan::agent
