#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "archiver/archiver.h"

#include "cli/context.h"
#include "cli/json_output.h"
#include "cli/progress.h"
#include "cli/telemetry.h"
#include "trace/semconv.h"
#include "util/time_format.h"
#include "version.h"

namespace backspan::cli {
namespace {

// The job's figures on its root span (the span catalog, docs/tracing.md).
void RecordBackupSummary(trace::Span& job, const BackupResult& r) {
  const Snapshot& snap = r.snapshot;
  const BackupSummary& s = snap.summary;
  job.SetAttribute(semconv::kBytesNew, r.bytes_new);
  job.SetAttribute(semconv::kBytesChanged, r.bytes_changed);
  job.SetAttribute(semconv::kBytesUnmodified, r.bytes_unmodified);
  job.SetAttribute(semconv::kSnapshotId, snap.id);
  if (!snap.parent.empty()) job.SetAttribute(semconv::kSnapshotParent, snap.parent);
  job.SetAttribute(semconv::kFilesNew, s.files_new);
  job.SetAttribute(semconv::kFilesChanged, s.files_changed);
  job.SetAttribute(semconv::kFilesUnmodified, s.files_unmodified);
  job.SetAttribute(semconv::kFilesTotal, s.total_files);
  job.SetAttribute(semconv::kFilesErrors, s.errors);
  job.SetAttribute(semconv::kDirsNew, s.dirs_new);
  job.SetAttribute(semconv::kDirsChanged, s.dirs_changed);
  job.SetAttribute(semconv::kDirsUnmodified, s.dirs_unmodified);
  job.SetAttribute(semconv::kBytesTotal, s.total_bytes);
  job.SetAttribute(semconv::kBytesRead, s.bytes_read);
  job.SetAttribute(semconv::kBytesAdded, s.bytes_added);
  job.SetAttribute(semconv::kBytesStored, s.bytes_stored);
  // Dedup: how much of what the snapshot holds was already stored.
  // Compression: new data before compression over what it took on disk.
  if (s.bytes_added > 0)
    job.SetAttribute(semconv::kDedupRatio, static_cast<double>(s.total_bytes) / static_cast<double>(s.bytes_added));
  if (s.bytes_stored > 0)
    job.SetAttribute(semconv::kCompressionRatio, static_cast<double>(s.bytes_added) / static_cast<double>(s.bytes_stored));
  if (s.duration_s > 0)
    job.SetAttribute(semconv::kThroughputBytesPerSecond, static_cast<double>(s.total_bytes) / s.duration_s);
}

// The paths as the source is known by: absolute and lexically normal
// ("./data/" from /srv is /srv/data).
trace::StringArray AbsolutePaths(const std::vector<std::string>& paths) {
  trace::StringArray out;
  std::error_code ec;
  const std::filesystem::path cwd = std::filesystem::current_path(ec);
  for (const auto& p : paths) {
    std::filesystem::path abs = std::filesystem::path(p).is_absolute() || ec ? std::filesystem::path(p) : cwd / p;
    std::string text = abs.lexically_normal().string();
    while (text.size() > 1 && text.back() == '/') text.pop_back();
    out.push_back(text);
  }
  return out;
}

}  // namespace

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

  // The source is on the job before anything can fail (a wrong password, an
  // unreachable repository), so a failure lands on the source it is about.
  if (g.job) {
    trace::Span& job = g.job->root();
    job.SetAttribute(semconv::kPaths, AbsolutePaths(opts.paths));
    job.SetAttribute(semconv::kCompression, c.compression);
  }
  auto repo = OpenRepository(g, false, LockKind::kShared, "backup");
  if (!repo.ok()) return Fail(g, repo.status());
  if (Status loaded = LoadIndexOrWarn(g, repo->get(), true); !loaded.ok()) return Fail(g, loaded);
  opts.trace = &JobSpan(g);
  if (g.job) opts.trace_id = g.job->trace_id();
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
  // A running backup's snapshots in the observatory show how far it got.
  if (g.job) g.job->SetProgressSource([&p](trace::Attributes& a) {
    trace::SetAttribute(a, semconv::kProgressFilesDone, static_cast<int64_t>(p.files_done.load()));
    trace::SetAttribute(a, semconv::kProgressBytesDone, static_cast<int64_t>(p.bytes_done.load()));
    trace::SetAttribute(a, semconv::kProgressFilesTotal, static_cast<int64_t>(p.files_total.load()));
    trace::SetAttribute(a, semconv::kProgressBytesTotal, static_cast<int64_t>(p.bytes_total.load()));
    trace::SetAttribute(a, semconv::kProgressErrors, static_cast<int64_t>(p.errors.load()));
    trace::SetAttribute(a, semconv::kProgressScanDone, p.scan_done.load());
  });
  auto result = archiver.Run();
  if (g.job) g.job->SetProgressSource({});
  progress.Stop();
  reporter = nullptr;
  if (result.status().code() == ErrorCode::kInterrupted) {
    // What was uploaded is indexed, so the next backup does not upload it again.
    Status kept = (*repo)->Flush();
    return Fail(g, result.status().WithContext(kept.ok() ? "no snapshot saved; the data stored so far is kept for the next backup"
                                                         : "no snapshot saved"));
  }
  if (!result.ok()) return Fail(g, result.status().WithContext("backup failed, no snapshot saved"));

  const Snapshot& snap = result->snapshot;
  const BackupSummary& s = snap.summary;
  if (g.job) RecordBackupSummary(g.job->root(), *result);
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
    if (g.job)
      g.job->RecordError(Status(ErrorCode::kIOError, std::to_string(s.errors) + " files could not be read; the snapshot is incomplete"));
    std::fprintf(stderr, "Warning: %llu files could not be read completely; the snapshot is incomplete\n",
                 static_cast<unsigned long long>(s.errors));
    return kExitIncomplete;
  }
  return kExitOk;
}

}  // namespace backspan::cli
