// Restorer: writes a snapshot (or part of it) into a target directory.
//
// Every file-system call is made relative to a directory file descriptor
// opened with O_NOFOLLOW, one path component at a time, so neither a
// malicious snapshot nor a symlink already in the target can make the
// restore write outside the target. Tree names are validated on decode.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "repository/repository.h"
#include "trace/tracer.h"
#include "util/path_matcher.h"

namespace backspan {

struct RestoreOptions {
  std::string target;
  PathMatcher includes;     // empty: everything
  bool overwrite = false;   // allow a non-empty target and replace files in it
  bool verify = false;      // re-read restored files and check them against their blob ids
  bool restore_owner = false;  // chown to the recorded uid/gid (needs root)
  unsigned threads = 0;     // 0: twice the number of cores
  // The job's span: each phase becomes a child span, each path not restored
  // a backspan.file_error event on it.
  const trace::Span* trace = nullptr;
};

struct RestoreProgress {
  std::atomic<uint64_t> files_total{0}, bytes_total{0};
  std::atomic<uint64_t> files_done{0}, bytes_done{0};
  std::atomic<uint64_t> errors{0};
};

struct RestoreIssue {
  std::string path;
  std::string message;
};

struct RestoreResult {
  uint64_t files_restored = 0, dirs_restored = 0, links_restored = 0, bytes_written = 0;
  uint64_t files_verified = 0;
  std::vector<RestoreIssue> issues;  // each is a path that was not restored correctly
  double duration_s = 0;
};

class Restorer {
 public:
  Restorer(Repository* repo, RestoreOptions options,
           std::function<void(const RestoreIssue&)> on_issue = {});

  // Restores `snapshot`. A Status error means the restore could not start
  // or was aborted; per-file failures are in RestoreResult::issues.
  Result<RestoreResult> Run(const Snapshot& snapshot);

  const RestoreProgress& progress() const { return progress_; }

 private:
  struct PlanDir;
  struct FileJob;
  class Impl;

  Repository* repo_;
  RestoreOptions opts_;
  std::function<void(const RestoreIssue&)> on_issue_;
  RestoreProgress progress_;
};

}  // namespace backspan
