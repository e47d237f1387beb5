// A fault-injecting Env for unit tests and for the crash and I/O-error
// harness (tests/fault/), built on the engine's Env interface.
#pragma once

#include <functional>
#include <string>

#include "env/directory.h"
#include "env/env.h"

namespace backspan::testing {

// Forwards to another Env (the POSIX one by default), but lets a test fail
// chosen operations with an errno, or kill the process at one (kCrash), to
// prove that I/O errors and crashes are reported cleanly and lose nothing.
class FaultEnv : public Env {
 public:
  // Files created through a Directory count as kNewWritableFile, their
  // positional writes as kAppend.
  enum class Op {
    kOpenForRead, kRead, kNewWritableFile, kAppend, kSync, kRename, kRemove, kSyncDir,
    kMakeDir, kMakeLink, kTruncate, kSetMetadata
  };
  // Returned by `fault` to die by SIGKILL at this operation; an append
  // first writes half its data, like a write torn by a crash.
  static constexpr int kCrash = -1;

  explicit FaultEnv(Env* base = Env::Default()) : base_(base) {}
  // Returns an errno to inject for (op, path), or 0 to run the real call.
  std::function<int(Op, const std::string&)> fault;

  Result<std::unique_ptr<ReadableFile>> OpenForRead(const std::string& path) override;
  Result<FileInfo> Lstat(const std::string& path) override { return base()->Lstat(path); }
  Result<std::vector<DirEntry>> ReadDir(const std::string& path) override { return base()->ReadDir(path); }
  Result<std::string> ReadLink(const std::string& path) override { return base()->ReadLink(path); }
  bool Exists(const std::string& path) override { return base()->Exists(path); }
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                        WriteHint hint) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Remove(const std::string& path) override;
  Status CreateDir(const std::string& path) override { return base()->CreateDir(path); }
  Status SyncDir(const std::string& path) override;
  Result<std::unique_ptr<Directory>> OpenDirectory(const std::string& path) override;
  int64_t NowUnixNanos() override { return base()->NowUnixNanos(); }
  int64_t MonotonicNanos() override { return base()->MonotonicNanos(); }

  // The errno to inject, or 0; dies here if the fault says kCrash.
  int Check(Op op, const std::string& path) const;
  static void Crash();

 private:
  Env* base() const { return base_; }
  Env* base_;
};

}  // namespace backspan::testing
