// `backspan agent`: --check validates the configuration, --once runs what
// is due, and without either the agent runs until SIGTERM.
#include <cstdio>

#include "agent/agent.h"
#include "agent/config.h"
#include "cli/context.h"
#include "cli/json_output.h"
#include "env/env.h"
#include "util/time_format.h"

namespace backspan::cli {
namespace {

void Log(const std::string& line) {
  std::fprintf(stderr, "%s agent: %s\n", FormatLocalShort(Env::Default()->NowUnixNanos()).c_str(), line.c_str());
  std::fflush(stderr);
}

// Each policy's next five runs, or its error; exit 1 if any is broken.
int CheckConfig(const GlobalOptions& g, const agent::AgentConfig& config) {
  const int64_t now = Env::Default()->NowUnixNanos() / 1000000000;
  std::vector<AgentPolicyCheck> checks;
  bool broken = false;
  for (const auto& p : config.policies) {
    AgentPolicyCheck c;
    c.name = p.name;
    c.error = p.error;
    broken |= !p.error.empty();
    if (p.error.empty()) {
      c.schedule = p.schedule->text();
      c.timezone = p.schedule->zone().name();
      int64_t t = now;
      for (int i = 0; i < 5; ++i) {
        auto next = p.schedule->Next(t);
        if (!next) break;
        c.runs.push_back({p.StartTime(*next, config.host) * 1000000000, p.Deadline(*next) * 1000000000,
                          p.schedule->zone().ToCivil(*next).ToString()});
        t = *next;
      }
    }
    checks.push_back(std::move(c));
  }
  if (g.json) {
    std::printf("%s\n", AgentCheckJson(config.path, config.host, checks).c_str());
  } else {
    std::printf("%s: %zu %s for host %s\n", config.path.c_str(), config.policies.size(),
                config.policies.size() == 1 ? "policy" : "policies", config.host.c_str());
    for (const auto& c : checks) {
      if (!c.error.empty()) {
        std::printf("\n%s: BROKEN: %s\n", c.name.c_str(), c.error.c_str());
        continue;
      }
      std::printf("\n%s: \"%s\" in %s; next runs:\n", c.name.c_str(), c.schedule.c_str(), c.timezone.c_str());
      for (const auto& r : c.runs)
        std::printf("  %s (%s, starts %s UTC), done by %s UTC\n", r.wall_clock.c_str(), c.timezone.c_str(),
                    FormatRfc3339(r.start_ns).substr(0, 16).c_str(), FormatRfc3339(r.deadline_ns).substr(0, 16).c_str());
    }
  }
  return broken ? kExitFailure : kExitOk;
}

}  // namespace

int RunAgent(const GlobalOptions& g, const AgentCommand& c) {
  Env* env = Env::Default();
  auto self = env->ReadLink("/proc/self/exe");
  auto config = agent::LoadAgentConfig(env, c.config, self.ok() ? *self : "backspan", Hostname());
  if (!config.ok()) return Fail(g, config.status());
  if (c.check) return CheckConfig(g, *config);
  auto deliver = ParseDuration(c.deliver_timeout);
  if (!deliver) return UsageError(g, "--deliver-timeout must be a duration such as 30s");
  agent::Agent a(&*config, env, Log);
  if (Status s = a.Open(); !s.ok()) return Fail(g, s);
  if (c.once) return a.RunOnce(*deliver / 1000000);
  Log("running " + std::to_string(config->policies.size()) + " policies for host " + config->host + " from " + c.config);
  return a.RunUntilStopped();
}

}  // namespace backspan::cli
