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

class FaultPositionalFile final : public PositionalFile {
 public:
  FaultPositionalFile(const FaultEnv* env, std::unique_ptr<PositionalFile> base, std::string path)
      : env_(env), base_(std::move(base)), path_(std::move(path)) {}
  Status WriteAt(uint64_t offset, ByteView data) override {
    if (int err = env_->Check(FaultEnv::Op::kAppend, path_)) {
      // A short write: half the data lands, then the error (or the crash).
      (void)base_->WriteAt(offset, data.first(data.size() / 2));
      if (err == FaultEnv::kCrash) FaultEnv::Crash();
      return Status::FromErrno(err, "write " + path_);
    }
    return base_->WriteAt(offset, data);
  }
  Status Truncate(uint64_t size) override {
    if (int err = env_->Check(FaultEnv::Op::kTruncate, path_)) return Status::FromErrno(err, "truncate " + path_);
    return base_->Truncate(size);
  }
  Status SetMetadata(const FileMetadata& m) override {
    if (int err = env_->Check(FaultEnv::Op::kSetMetadata, path_)) return Status::FromErrno(err, "chmod " + path_);
    return base_->SetMetadata(m);
  }
  Status Close() override { return base_->Close(); }

 private:
  const FaultEnv* env_;
  std::unique_ptr<PositionalFile> base_;
  std::string path_;
};

class FaultDirectory final : public Directory {
 public:
  FaultDirectory(const FaultEnv* env, std::unique_ptr<Directory> base) : env_(env), base_(std::move(base)) {}
  const std::string& path() const override { return base_->path(); }

  Result<std::unique_ptr<Directory>> OpenDir(const std::string& name) override {
    ASSIGN_OR_RETURN(auto dir, base_->OpenDir(name));
    return std::unique_ptr<Directory>(new FaultDirectory(env_, std::move(dir)));
  }
  Status MakeDir(const std::string& name) override {
    if (int err = env_->Check(FaultEnv::Op::kMakeDir, Join(name))) return Status::FromErrno(err, "mkdir " + Join(name));
    return base_->MakeDir(name);
  }
  Result<std::unique_ptr<PositionalFile>> CreateFile(const std::string& name) override {
    if (int err = env_->Check(FaultEnv::Op::kNewWritableFile, Join(name))) return Status::FromErrno(err, "create " + Join(name));
    ASSIGN_OR_RETURN(auto file, base_->CreateFile(name));
    return Wrap(std::move(file), name);
  }
  Result<std::unique_ptr<PositionalFile>> OpenForWrite(const std::string& name, bool create) override {
    if (int err = create ? env_->Check(FaultEnv::Op::kNewWritableFile, Join(name)) : 0)
      return Status::FromErrno(err, "create " + Join(name));
    ASSIGN_OR_RETURN(auto file, base_->OpenForWrite(name, create));
    return Wrap(std::move(file), name);
  }
  Result<std::unique_ptr<ReadableFile>> OpenForRead(const std::string& name) override {
    if (int err = env_->Check(FaultEnv::Op::kOpenForRead, Join(name))) return Status::FromErrno(err, "open " + Join(name));
    return base_->OpenForRead(name);
  }
  Result<FileInfo> Lstat(const std::string& name) override { return base_->Lstat(name); }
  Status Remove(const std::string& name) override {
    if (int err = env_->Check(FaultEnv::Op::kRemove, Join(name))) return Status::FromErrno(err, "remove " + Join(name));
    return base_->Remove(name);
  }
  Status MakeSymlink(const std::string& name, const std::string& target) override {
    if (int err = env_->Check(FaultEnv::Op::kMakeLink, Join(name))) return Status::FromErrno(err, "symlink " + Join(name));
    return base_->MakeSymlink(name, target);
  }
  Status MakeSpecial(const std::string& name, FileKind kind, uint64_t rdev) override {
    if (int err = env_->Check(FaultEnv::Op::kMakeLink, Join(name))) return Status::FromErrno(err, "mknod " + Join(name));
    return base_->MakeSpecial(name, kind, rdev);
  }
  Status Link(const std::string& existing, Directory* dir, const std::string& name) override {
    auto* to = dynamic_cast<FaultDirectory*>(dir);
    if (!to) return Status::Internal("hard link across Env implementations");
    if (int err = env_->Check(FaultEnv::Op::kMakeLink, to->Join(name))) return Status::FromErrno(err, "link " + to->Join(name));
    return base_->Link(existing, to->base_.get(), name);
  }
  Status SetMetadata(const std::string& name, const FileMetadata& m) override {
    if (int err = env_->Check(FaultEnv::Op::kSetMetadata, Join(name))) return Status::FromErrno(err, "chmod " + Join(name));
    return base_->SetMetadata(name, m);
  }

 private:
  std::string Join(const std::string& name) const { return base_->path() + "/" + name; }
  std::unique_ptr<PositionalFile> Wrap(std::unique_ptr<PositionalFile> file, const std::string& name) const {
    return std::make_unique<FaultPositionalFile>(env_, std::move(file), Join(name));
  }

  const FaultEnv* env_;
  std::unique_ptr<Directory> base_;
};

}  // namespace

Result<std::unique_ptr<Directory>> FaultEnv::OpenDirectory(const std::string& path) {
  ASSIGN_OR_RETURN(auto dir, base()->OpenDirectory(path));
  return std::unique_ptr<Directory>(new FaultDirectory(this, std::move(dir)));
}

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
  if (err == kCrash && op != Op::kAppend) Crash();  // an append tears its write first
  return err;
}

void FaultEnv::Crash() {
  ::kill(::getpid(), SIGKILL);
  ::_exit(137);  // not reached
}

}  // namespace backspan::testing
