// Archiver: walks source paths and stores them as a snapshot.
//
// Pipeline: one thread scans the tree (lstat, compare with the parent
// snapshot); reader threads read, chunk and hash changed files; saver
// threads compress, encrypt and pack new blobs. Queues between the stages
// are bounded, so memory stays bounded whatever the file sizes.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "compress/compressor.h"
#include "env/env.h"
#include "repository/repository.h"
#include "trace/tracer.h"
#include "util/path_matcher.h"

namespace backspan {

struct BackupOptions {
  std::vector<std::string> paths;
  std::vector<std::string> tags;  // KEY=VALUE
  std::string hostname;
  std::string username;
  uint32_t uid = 0, gid = 0;
  PathMatcher excludes;
  CompressionMode compression = CompressionMode::kAuto;
  std::optional<int64_t> time_ns;  // snapshot time; now if unset
  std::string program_version;
  unsigned threads = 0;  // 0: one reader and one saver per core
  // The job's span: phases become its children, file issues span events.
  // Files of at least large_file_bytes get spans of their own.
  const trace::Span* trace = nullptr;
  uint64_t large_file_bytes = 64ull << 20;
  std::string trace_id;  // recorded in the snapshot
};

// Live counters for progress displays; read from any thread.
struct BackupProgress {
  std::atomic<uint64_t> files_total{0}, bytes_total{0};
  std::atomic<uint64_t> files_done{0}, bytes_done{0};
  std::atomic<uint64_t> bytes_read{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<bool> scan_done{false};
};

// A problem with one source file. Errors (unreadable, vanished, changed)
// make the backup incomplete (exit code 3); notices (a skipped socket) do not.
struct BackupIssue {
  std::string path;
  std::string message;
  bool is_error = true;
};

struct BackupResult {
  Snapshot snapshot;  // with id set
  std::vector<BackupIssue> issues;
  // Sizes of the files that were new, changed and unmodified (for traces).
  uint64_t bytes_new = 0, bytes_changed = 0, bytes_unmodified = 0;
  bool incomplete() const { return snapshot.summary.errors > 0; }
};

class Archiver {
 public:
  // `repo` must have its index loaded. `on_issue`, if set, is called (from
  // any thread, serialised) for each issue as it happens.
  Archiver(Repository* repo, Env* env, BackupOptions options,
           std::function<void(const BackupIssue&)> on_issue = {});
  ~Archiver();

  // Runs the backup. A Status error means no snapshot was saved.
  Result<BackupResult> Run();

  const BackupProgress& progress() const { return progress_; }

 private:
  struct Item;
  struct FileJob;
  struct BlobJob;

  Status ScanPath(Item* root, const std::string& abs_path);
  void ScanDir(const std::string& path, Item* dir);
  void AddChild(Item* dir, const std::string& dir_path, const std::string& name, const FileInfo& info);
  void LoadPrevTree(Item* dir, const std::string& path);
  void ReaderLoop();
  void SaverLoop();
  void ProcessFile(FileJob& job);
  void SaveChunk(Item* item, ByteView chunk);
  void SaveBlobNow(const BlobId& id, ByteView data);
  Result<BlobId> SaveTrees(Item* dir, bool is_root);
  void Report(BackupIssue issue);
  void Fail(Status st);
  // Whether the job stops here: it failed, or an interrupt was requested
  // (which then becomes its failure).
  bool Stopped();

  Repository* repo_;
  Env* env_;
  BackupOptions opts_;
  std::function<void(const BackupIssue&)> on_issue_;
  BackupProgress progress_;
  std::mutex issues_mu_;
  std::vector<BackupIssue> issues_;
  std::mutex fail_mu_;
  Status first_failure_;
  std::atomic<bool> failed_{false};
  std::atomic<uint64_t> files_new_{0}, files_changed_{0}, files_unmodified_{0};
  uint64_t dirs_new_ = 0, dirs_changed_ = 0, dirs_unmodified_ = 0;
  uint64_t bytes_new_ = 0, bytes_changed_ = 0, bytes_unmodified_ = 0;  // scanner thread only
  struct Queues;
  std::unique_ptr<Queues> queues_;
  trace::Span process_span_;  // "process files", the parent of large-file spans
};

}  // namespace backspan
