// The audit log as `audit verify` and `audit list` read it from disk: a
// segment and the head, split at "\n--\n".
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "audit/audit_log.h"
#include "env/env.h"
#include "fuzz.h"

using namespace backspan;

namespace {
std::string g_dir;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char tmpl[] = "/tmp/backspan-fuzz-audit-XXXXXX";
  if (mkdtemp(tmpl)) g_dir = tmpl;
  std::atexit([] {
    unlink((g_dir + "/audit-000001.jsonl").c_str());
    unlink((g_dir + "/audit.head").c_str());
    rmdir(g_dir.c_str());
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = fuzz::Split(fuzz::Text(data, size));
  const std::string_view segment = parts.first, head = parts.second;
  Env* env = Env::Default();
  auto write = [&](const char* name, std::string_view text) {
    return WriteFileAtomic(env, g_dir + "/" + name, ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size())).ok();
  };
  if (!write("audit-000001.jsonl", segment) || !write("audit.head", head)) return 0;
  (void)audit::VerifyAuditLog(env, g_dir);
  (void)audit::ListAuditLog(env, g_dir, {});
  return 0;
}
