#include <cstdio>

#include "cli/context.h"
#include "cli/json_output.h"
#include "util/time_format.h"

namespace backspan::cli {

int RunUnlock(const GlobalOptions& g, const UnlockCommand& c) {
  auto repo = OpenRepository(g, false);
  if (!repo.ok()) return Fail(g, repo.status());
  size_t unreadable = 0;
  auto locks = ListLocks(repo->get(), &unreadable);
  if (!locks.ok()) return Fail(g, locks.status());
  int64_t now = (*repo)->env()->NowUnixNanos();
  std::vector<LockInfo> removed;
  size_t kept = 0;
  for (const auto& l : *locks) {
    if (!c.remove_all && !IsStale(l, now, Hostname())) {
      ++kept;
      continue;
    }
    Status st = (*repo)->backend()->Remove(FileType::kLock, l.name);
    if (!st.ok() && st.code() != ErrorCode::kNotFound) return Fail(g, st);
    removed.push_back(l);
  }
  if (g.json) {
    std::printf("%s\n", UnlockJson(removed, kept).c_str());
    return kExitOk;
  }
  if (g.quiet) return kExitOk;
  for (const auto& l : removed)
    std::printf("removed lock of pid %lld on %s (%s, since %s)\n", static_cast<long long>(l.pid),
                l.hostname.c_str(), l.command.c_str(), FormatLocalShort(l.started_ns).c_str());
  if (removed.empty()) std::printf("no stale locks\n");
  if (kept) std::printf("%zu locks of running jobs kept (use --remove-all to remove them too)\n", kept);
  if (unreadable) std::printf("%zu lock files could not be read and were left alone\n", unreadable);
  return kExitOk;
}

}  // namespace backspan::cli
