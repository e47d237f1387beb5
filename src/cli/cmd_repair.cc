// `backspan repair index`: the index rebuilt from the packs' headers.
#include <cstdio>

#include "cli/context.h"
#include "cli/json_output.h"
#include "cli/telemetry.h"
#include "repairer/index_repair.h"
#include "trace/semconv.h"

namespace backspan::cli {

int RunRepairIndex(const GlobalOptions& g) {
  auto repo = OpenRepository(g, false, LockKind::kExclusive, "repair index");
  if (!repo.ok()) return Fail(g, repo.status());
  auto stats = trace::InChildSpan(JobSpan(g), "repair index", [&](trace::Span& phase) {
    return RepairIndex(repo->get(), &phase);
  });
  if (!stats.ok()) return Fail(g, stats.status());
  const IndexRepairStats& s = *stats;
  if (g.job) {
    trace::Span& job = g.job->root();
    job.SetAttribute(semconv::kRepairPacks, s.packs);
    job.SetAttribute(semconv::kRepairPacksUnreadable, s.unreadable.size());
    job.SetAttribute(semconv::kRepairIndexFilesRemoved, s.index_files_removed);
    for (const auto& u : s.unreadable) job.AddEvent("pack unreadable", {{semconv::kExceptionMessage, u}});
  }
  const bool complete = s.unreadable.empty();
  if (g.json) {
    std::printf("%s\n", IndexRepairJson(s).c_str());
  } else {
    for (const auto& u : s.unreadable) std::fprintf(stderr, "error: %s: left out of the index\n", u.c_str());
    if (!g.quiet)
      std::printf("read the headers of %llu packs (%llu blobs); wrote %llu index files, removed %llu old ones\n",
                  static_cast<unsigned long long>(s.packs), static_cast<unsigned long long>(s.blobs),
                  static_cast<unsigned long long>(s.index_files_written),
                  static_cast<unsigned long long>(s.index_files_removed));
    if (!complete)
      std::fprintf(stderr, "%zu packs could not be read: 'backspan check' names the snapshots and files they held\n",
                   s.unreadable.size());
  }
  if (!complete && g.job)
    g.job->RecordError(Status::Corruption(std::to_string(s.unreadable.size()) + " packs unreadable"));
  return complete ? kExitOk : kExitIncomplete;
}

}  // namespace backspan::cli
