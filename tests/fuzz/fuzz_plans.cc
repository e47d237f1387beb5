// The plans file `serve --plans` reads, and a retention policy as the API
// takes it.
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "env/env.h"
#include "fuzz.h"
#include "observatory/ops/plans.h"

using namespace backspan;

namespace {
std::string g_path;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char tmpl[] = "/tmp/backspan-fuzz-plans-XXXXXX";
  const int fd = mkstemp(tmpl);
  if (fd >= 0) close(fd);
  g_path = tmpl;
  std::atexit([] { unlink(g_path.c_str()); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Env* env = Env::Default();
  if (!WriteFileAtomic(env, g_path, ByteView(data, size)).ok()) return 0;
  auto book = observatory::PlanBook::Load(env, g_path);
  if (book.ok()) {
    for (const auto& p : (*book)->InScope(observatory::Scope::All())) (void)p.ToJson();
  }
  (void)observatory::ParseRetention(fuzz::Text(data, size));
  return 0;
}
