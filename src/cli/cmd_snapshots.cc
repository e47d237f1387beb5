#include <cstdio>

#include "cli/context.h"
#include "cli/json_output.h"
#include "util/time_format.h"

namespace backspan::cli {

static std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

int RunSnapshots(const GlobalOptions& g, const SnapshotsCommand& c) {
  for (const auto& t : c.tags) {
    Status st = ValidateTag(t);
    if (!st.ok()) return UsageError(g, st.message());
  }
  auto repo = OpenRepository(g, false);
  if (!repo.ok()) return Fail(g, repo.status());
  auto all = (*repo)->LoadAllSnapshots();
  if (!all.ok()) return Fail(g, all.status());
  std::vector<Snapshot> shown;
  for (auto& s : *all)
    if (s.Matches(c.tags, c.host)) shown.push_back(std::move(s));
  if (g.json) {
    std::printf("%s\n", SnapshotListJson(shown).c_str());
    return kExitOk;
  }
  std::printf("%-8s  %-19s  %-16s  %-30s  %s\n", "ID", "Time", "Host", "Tags", "Paths");
  std::printf("%s\n", std::string(100, '-').c_str());
  for (const auto& s : shown)
    std::printf("%-8s  %-19s  %-16s  %-30s  %s\n", s.id.substr(0, 8).c_str(),
                FormatLocalShort(s.time_ns).c_str(), s.hostname.c_str(), Join(s.tags, ",").c_str(),
                Join(s.paths, ", ").c_str());
  std::printf("%s\n%zu snapshots\n", std::string(100, '-').c_str(), shown.size());
  return kExitOk;
}

}  // namespace backspan::cli
