#include <unistd.h>

#include <cstdio>

#include "cli/context.h"
#include "cli/telemetry.h"
#include "cli/json_output.h"
#include "cli/progress.h"
#include "restorer/restorer.h"
#include "trace/semconv.h"

namespace backspan::cli {

int RunRestore(const GlobalOptions& g, const RestoreCommand& c) {
  for (const auto& t : c.tags) {
    Status st = ValidateTag(t);
    if (!st.ok()) return UsageError(g, st.message());
  }
  if (c.target.empty()) return UsageError(g, "--target is required");
  auto repo = OpenRepository(g, true, LockKind::kShared, "restore");
  if (!repo.ok()) return Fail(g, repo.status());
  auto snap = (*repo)->FindSnapshot(c.snapshot, c.tags, c.host);
  if (!snap.ok()) return Fail(g, snap.status());

  RestoreOptions opts;
  opts.target = c.target;
  opts.overwrite = c.overwrite;
  opts.verify = c.verify;
  opts.restore_owner = geteuid() == 0;
  for (const auto& p : c.includes) opts.includes.AddPattern(p);

  if (g.job) {
    trace::Span& job = g.job->root();
    job.SetAttribute(semconv::kSnapshotId, snap->id);
    job.SetAttribute(semconv::kRestoreTarget, c.target);
    g.job->SetTagAttributes(snap->tags);
  }
  opts.trace = &JobSpan(g);
  ProgressReporter* reporter = nullptr;
  Restorer restorer(repo->get(), std::move(opts), [&](const RestoreIssue& issue) {
    if (g.json) {
      std::printf("%s\n", RestoreIssueJson(issue).c_str());
      std::fflush(stdout);
    }
    std::string line = "error: " + issue.path + ": " + issue.message;
    if (reporter) reporter->Message(line);
    else std::fprintf(stderr, "%s\n", line.c_str());
  });
  const RestoreProgress& p = restorer.progress();
  ProgressReporter progress(
      g, [&] { return ProgressFigures{p.files_done, p.files_total, p.bytes_done, p.bytes_total, p.errors, true}; },
      [&](double elapsed) { return RestoreStatusJson(p, elapsed); });
  reporter = &progress;
  if (!g.quiet && !g.json)
    progress.Message("restoring snapshot " + snap->id.substr(0, 8) + " to " + c.target);
  auto result = restorer.Run(*snap);
  progress.Stop();
  reporter = nullptr;
  if (!result.ok()) return Fail(g, result.status());
  if (g.job) {
    trace::Span& job = g.job->root();
    job.SetAttribute(semconv::kFilesRestored, result->files_restored);
    job.SetAttribute(semconv::kDirsRestored, result->dirs_restored);
    job.SetAttribute(semconv::kBytesWritten, result->bytes_written);
    job.SetAttribute(semconv::kFilesErrors, result->issues.size());
    if (result->duration_s > 0)
      job.SetAttribute(semconv::kThroughputBytesPerSecond,
                       static_cast<double>(result->bytes_written) / result->duration_s);
  }
  if (g.json) {
    std::printf("%s\n", RestoreSummaryJson(*snap, *result).c_str());
  } else if (!g.quiet) {
    std::printf("restored %llu files, %llu directories, %s in %s%s\n",
                static_cast<unsigned long long>(result->files_restored),
                static_cast<unsigned long long>(result->dirs_restored),
                FormatBytes(result->bytes_written).c_str(), FormatDuration(result->duration_s).c_str(),
                c.verify ? (", " + std::to_string(result->files_verified) + " files verified").c_str() : "");
  }
  if (!result->issues.empty()) {
    std::fprintf(stderr, "Fatal: %zu paths could not be restored (listed above)\n", result->issues.size());
    if (g.job) g.job->RecordError(Status::Corruption(std::to_string(result->issues.size()) + " paths could not be restored"));
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace backspan::cli
