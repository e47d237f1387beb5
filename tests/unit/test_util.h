// Helpers shared by the unit tests: temporary directories and a fault-
// injecting Env.
#pragma once

#include <functional>
#include <string>

#include "env/env.h"

namespace backspan::testing {

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);

// Forwards to the POSIX Env, but lets a test fail chosen operations with an
// errno, to prove that I/O errors are reported cleanly and lose nothing.
class FaultEnv : public Env {
 public:
  enum class Op { kOpenForRead, kRead, kNewWritableFile, kAppend, kSync, kRename };
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
  Status Remove(const std::string& path) override { return base()->Remove(path); }
  Status CreateDir(const std::string& path) override { return base()->CreateDir(path); }
  Status SyncDir(const std::string& path) override { return base()->SyncDir(path); }
  int64_t NowUnixNanos() override { return base()->NowUnixNanos(); }
  int64_t MonotonicNanos() override { return base()->MonotonicNanos(); }

  int Check(Op op, const std::string& path) const { return fault ? fault(op, path) : 0; }

 private:
  static Env* base() { return Env::Default(); }
};

}  // namespace backspan::testing
