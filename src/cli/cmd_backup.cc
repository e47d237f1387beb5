#include <unistd.h>

#include <cstdio>

#include "archiver/archiver.h"
#include "cli/context.h"
#include "cli/json_output.h"
#include "cli/progress.h"
#include "util/time_format.h"
#include "version.h"

namespace backspan::cli {

int RunBackup(const GlobalOptions& g, const BackupCommand& c) {
  BackupOptions opts;
  for (const auto& t : c.tags) {
    Status st = ValidateTag(t);
    if (!st.ok()) return UsageError(g, st.message());
  }
  auto checkpoint = ParseDuration(c.checkpoint_interval);
  if (!checkpoint) return UsageError(g, "--checkpoint-interval must be a duration such as 30s or 5m");
  auto mode = ParseCompressionMode(c.compression);
  if (!mode) return UsageError(g, "--compression must be off, auto or max");
  if (!c.time.empty()) {
    auto t = ParseUserTime(c.time);
    if (!t) return UsageError(g, "--time must be like '2026-11-24 13:04:05' (local time) or RFC 3339");
    opts.time_ns = *t;
  }
  opts.paths = c.paths;
  opts.tags = c.tags;
  opts.hostname = c.host.empty() ? Hostname() : c.host;
  opts.username = Username();
  opts.uid = geteuid();
  opts.gid = getegid();
  opts.compression = *mode;
  opts.program_version = std::string("backspan ") + BACKSPAN_VERSION;
  for (const auto& e : c.excludes) opts.excludes.AddPattern(e);
  for (const auto& f : c.exclude_files) {
    Status st = opts.excludes.AddPatternFile(f);
    if (!st.ok()) return Fail(g, st);
  }

  auto repo = OpenRepository(g, false, LockKind::kShared, "backup");
  if (!repo.ok()) return Fail(g, repo.status());
  if (Status st = (*repo)->LoadIndexForWriting(); !st.ok()) return Fail(g, st);
  (*repo)->set_checkpoint_interval_ns(*checkpoint);

  ProgressReporter* reporter = nullptr;
  Archiver archiver(repo->get(), Env::Default(), std::move(opts), [&](const BackupIssue& issue) {
    if (g.json) {
      std::printf("%s\n", BackupIssueJson(issue).c_str());
      std::fflush(stdout);
    }
    std::string line = (issue.is_error ? "error: " : "warning: ") + issue.path + ": " + issue.message;
    if (reporter) reporter->Message(line);
    else std::fprintf(stderr, "%s\n", line.c_str());
  });
  const BackupProgress& p = archiver.progress();
  ProgressReporter progress(
      g,
      [&] {
        return ProgressFigures{p.files_done, p.files_total, p.bytes_done, p.bytes_total, p.errors,
                               p.scan_done};
      },
      [&](double elapsed) { return BackupStatusJson(p, elapsed); });
  reporter = &progress;
  auto result = archiver.Run();
  progress.Stop();
  reporter = nullptr;
  if (!result.ok()) return Fail(g, result.status().WithContext("backup failed, no snapshot saved"));

  const Snapshot& snap = result->snapshot;
  const BackupSummary& s = snap.summary;
  if (g.json) {
    std::printf("%s\n", BackupSummaryJson(*result).c_str());
  } else if (!g.quiet) {
    if (!snap.parent.empty()) std::printf("using parent snapshot %s\n", snap.parent.substr(0, 8).c_str());
    std::printf("Files:       %6llu new, %6llu changed, %6llu unmodified\n",
                static_cast<unsigned long long>(s.files_new), static_cast<unsigned long long>(s.files_changed),
                static_cast<unsigned long long>(s.files_unmodified));
    std::printf("Dirs:        %6llu new, %6llu changed, %6llu unmodified\n",
                static_cast<unsigned long long>(s.dirs_new), static_cast<unsigned long long>(s.dirs_changed),
                static_cast<unsigned long long>(s.dirs_unmodified));
    std::printf("Added to the repository: %s (%s stored)\n", FormatBytes(s.bytes_added).c_str(),
                FormatBytes(s.bytes_stored).c_str());
    std::printf("\nprocessed %llu files, %s in %s\n", static_cast<unsigned long long>(s.total_files),
                FormatBytes(s.total_bytes).c_str(), FormatDuration(s.duration_s).c_str());
    std::printf("snapshot %s saved\n", snap.id.substr(0, 8).c_str());
  }
  if (result->incomplete()) {
    std::fprintf(stderr, "Warning: %llu files could not be read completely; the snapshot is incomplete\n",
                 static_cast<unsigned long long>(s.errors));
    return kExitIncomplete;
  }
  return kExitOk;
}

}  // namespace backspan::cli
