#include <cstdio>
#include <cstdlib>

#include "cli/context.h"
#include "cli/telemetry.h"
#include "cli/json_output.h"
#include "pruner/pruner.h"
#include "trace/semconv.h"
#include "util/time_format.h"

namespace backspan::cli {
namespace {

std::string Mib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

}  // namespace

int PruneOpened(const GlobalOptions& g, OpenedRepository& repo, const PruneCommand& c) {
  PruneOptions opts;
  opts.dry_run = c.dry_run;
  if (c.max_unused == "unlimited") {
    opts.max_unused_percent = -1;
  } else {
    std::string v = c.max_unused;
    if (!v.empty() && v.back() == '%') v.pop_back();
    char* end = nullptr;
    double pct = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || pct < 0 || pct > 100)
      return UsageError(g, "--max-unused must be a percentage such as 5% or 'unlimited'");
    opts.max_unused_percent = pct;
  }
  auto grace = ParseDuration(c.grace);
  if (!grace) return UsageError(g, "--grace must be a duration such as 10s or 5m");
  opts.grace_ns = *grace;
  opts.hostname = Hostname();
  if (repo.lock) opts.own_job = repo.lock->info().job;

  auto stats = trace::InChildSpan(JobSpan(g), "prune", [&](trace::Span& phase) {
    opts.trace = &phase;  // the pruner's steps become its children
    return Pruner(repo.get(), opts).Run();
  });
  if (!stats.ok()) return Fail(g, stats.status());
  const PruneStats& s = *stats;
  if (g.job) {
    trace::Span& job = g.job->root();
    job.SetAttribute(semconv::kPrunePacksRepacked, s.packs_repacked);
    job.SetAttribute(semconv::kPrunePacksMarked, s.packs_marked);
    job.SetAttribute(semconv::kPrunePacksDeleted, s.packs_deleted);
    job.SetAttribute(semconv::kPruneMarksPending, s.marks_pending);
    job.SetAttribute(semconv::kPruneLeftoversRemoved, s.leftovers_removed);
    job.SetAttribute(semconv::kBytesUnused, s.bytes_unused);
    job.SetAttribute(semconv::kDryRun, c.dry_run);
  }
  if (g.json) {
    std::printf("%s\n", PruneJson(s, c.dry_run).c_str());
    return kExitOk;
  }
  for (const auto& n : s.notices) std::fprintf(stderr, "notice: %s\n", n.c_str());
  if (g.quiet) return kExitOk;
  std::printf("%llu snapshots reference %s in %llu packs; %s is unused\n",
              static_cast<unsigned long long>(s.snapshots), Mib(s.bytes_used).c_str(),
              static_cast<unsigned long long>(s.packs), Mib(s.bytes_unused).c_str());
  std::printf("packs: %llu fully used, %llu partly used, %llu unused, %llu not in the index\n",
              static_cast<unsigned long long>(s.packs_used), static_cast<unsigned long long>(s.packs_partly_used),
              static_cast<unsigned long long>(s.packs_unused), static_cast<unsigned long long>(s.packs_unindexed));
  if (c.dry_run) {
    std::printf("would repack %llu packs and mark %llu packs for deletion (dry run: nothing changed)\n",
                static_cast<unsigned long long>(s.packs_repacked), static_cast<unsigned long long>(s.packs_marked));
    if (s.leftovers_removed)
      std::printf("would remove %llu temporary files left by interrupted writers (%s)\n",
                  static_cast<unsigned long long>(s.leftovers_removed), Mib(s.leftover_bytes_removed).c_str());
    return kExitOk;
  }
  if (s.leftovers_removed)
    std::printf("removed %llu temporary files left by interrupted writers (%s)\n",
                static_cast<unsigned long long>(s.leftovers_removed), Mib(s.leftover_bytes_removed).c_str());
  if (s.leftovers_kept)
    std::printf("kept %llu temporary files written in the last 30 minutes (a writer may still own them)\n",
                static_cast<unsigned long long>(s.leftovers_kept));
  std::printf("repacked %llu blobs (%s) from %llu packs; marked %llu packs for deletion\n",
              static_cast<unsigned long long>(s.blobs_repacked), Mib(s.bytes_repacked).c_str(),
              static_cast<unsigned long long>(s.packs_repacked), static_cast<unsigned long long>(s.packs_marked));
  if (s.packs_resurrected)
    std::printf("kept %llu marked packs that newer snapshots still use\n",
                static_cast<unsigned long long>(s.packs_resurrected));
  std::printf("deleted %llu packs\n", static_cast<unsigned long long>(s.packs_deleted));
  if (s.marks_pending)
    std::printf("%llu deletion marks wait for %zu jobs that began before them; the next prune finishes them\n",
                static_cast<unsigned long long>(s.marks_pending), s.waiting_for.size());
  return kExitOk;
}

int RunPrune(const GlobalOptions& g, const PruneCommand& c) {
  auto repo = OpenRepository(g, false, c.dry_run ? LockKind::kShared : LockKind::kExclusive, "prune");
  if (!repo.ok()) return Fail(g, repo.status());
  return PruneOpened(g, *repo, c);
}

}  // namespace backspan::cli
