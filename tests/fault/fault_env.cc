#include "fault_env.h"

#include <signal.h>
#include <unistd.h>

namespace backspan::testing {

namespace {

class FaultReadableFile final : public ReadableFile {
 public:
  FaultReadableFile(const FaultEnv* env, std::unique_ptr<ReadableFile> base, std::string path)
      : env_(env), base_(std::move(base)), path_(std::move(path)) {}
  Result<size_t> ReadAt(uint64_t offset, uint8_t* dst, size_t n) override {
    if (int err = env_->Check(FaultEnv::Op::kRead, path_)) return Status::FromErrno(err, "read " + path_);
    return base_->ReadAt(offset, dst, n);
  }
  Result<FileInfo> Stat() override { return base_->Stat(); }

 private:
  const FaultEnv* env_;
  std::unique_ptr<ReadableFile> base_;
  std::string path_;
};

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(const FaultEnv* env, std::unique_ptr<WritableFile> base, std::string path)
      : env_(env), base_(std::move(base)), path_(std::move(path)) {}
  Status Append(ByteView data) override {
    if (int err = env_->Check(FaultEnv::Op::kAppend, path_)) {
      // A short write: half the data lands, then the error (or the crash).
      (void)base_->Append(data.first(data.size() / 2));
      if (err == FaultEnv::kCrash) {
        (void)base_->Close();  // the half reaches the file, torn
        FaultEnv::Crash();
      }
      return Status::FromErrno(err, "write " + path_);
    }
    return base_->Append(data);
  }
  Status Sync() override {
    if (int err = env_->Check(FaultEnv::Op::kSync, path_)) return Status::FromErrno(err, "fsync " + path_);
    return base_->Sync();
  }
  Status Close() override { return base_->Close(); }

 private:
  const FaultEnv* env_;
  std::unique_ptr<WritableFile> base_;
  std::string path_;
};

}  // namespace

Result<std::unique_ptr<ReadableFile>> FaultEnv::OpenForRead(const std::string& path) {
  if (int err = Check(Op::kOpenForRead, path)) return Status::FromErrno(err, "open " + path);
  ASSIGN_OR_RETURN(auto file, base()->OpenForRead(path));
  return std::unique_ptr<ReadableFile>(new FaultReadableFile(this, std::move(file), path));
}

Result<std::unique_ptr<WritableFile>> FaultEnv::NewWritableFile(const std::string& path,
                                                                WriteHint hint) {
  if (int err = Check(Op::kNewWritableFile, path)) return Status::FromErrno(err, "create " + path);
  ASSIGN_OR_RETURN(auto file, base()->NewWritableFile(path, hint));
  return std::unique_ptr<WritableFile>(new FaultWritableFile(this, std::move(file), path));
}

Status FaultEnv::Rename(const std::string& from, const std::string& to) {
  if (int err = Check(Op::kRename, to)) return Status::FromErrno(err, "rename " + from);
  return base()->Rename(from, to);
}

Status FaultEnv::Remove(const std::string& path) {
  if (int err = Check(Op::kRemove, path)) return Status::FromErrno(err, "remove " + path);
  return base()->Remove(path);
}

Status FaultEnv::SyncDir(const std::string& path) {
  if (int err = Check(Op::kSyncDir, path)) return Status::FromErrno(err, "fsync directory " + path);
  return base()->SyncDir(path);
}

int FaultEnv::Check(Op op, const std::string& path) const {
  int err = fault ? fault(op, path) : 0;
  if (err == kCrash && op != Op::kAppend) Crash();
  return err;
}

void FaultEnv::Crash() {
  ::kill(::getpid(), SIGKILL);
  ::_exit(137);  // not reached
}

}  // namespace backspan::testing
