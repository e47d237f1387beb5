// The TOML files operators write: the agent's configuration and the
// notifications file (the first part of the input as one, the rest as the
// other). Bad files must give errors, never crashes.
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "agent/config.h"
#include "env/env.h"
#include "fuzz.h"
#include "notify/notify_config.h"

using namespace backspan;

namespace {
std::string g_path;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char tmpl[] = "/tmp/backspan-fuzz-agent-XXXXXX";
  const int fd = mkstemp(tmpl);
  if (fd >= 0) close(fd);
  g_path = tmpl;
  std::atexit([] { unlink(g_path.c_str()); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Env* env = Env::Default();
  auto [agent, notify] = fuzz::Split(fuzz::Text(data, size));
  if (WriteFileAtomic(env, g_path, AsBytes(std::string(agent))).ok()) {
    auto config = agent::LoadAgentConfig(env, g_path, "/usr/bin/backspan", "host");
    if (config.ok())
      for (const auto& p : config->policies)
        if (p.error.empty() && p.schedule) (void)p.Deadline(*p.schedule->Next(1796601600));
  }
  if (WriteFileAtomic(env, g_path, AsBytes(std::string(notify))).ok()) (void)notify::LoadNotifyConfig(env, g_path);
  return 0;
}
