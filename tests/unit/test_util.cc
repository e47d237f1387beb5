#include "test_util.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace backspan::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/backspan-test.XXXXXX";
  path_ = mkdtemp(tmpl.data());
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void WriteFile(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

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
      // A short write: half the data lands, then the error.
      (void)base_->Append(data.first(data.size() / 2));
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

}  // namespace backspan::testing
