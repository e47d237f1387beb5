// The POSIX Directory: *at() calls on a directory descriptor, with
// O_NOFOLLOW / AT_SYMLINK_NOFOLLOW on every name.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

#include "env/posix_files.h"

namespace backspan {
namespace {

timespec ToTimespec(int64_t ns) {
  timespec ts;
  ts.tv_sec = static_cast<time_t>(ns / 1000000000);
  ts.tv_nsec = static_cast<long>(ns % 1000000000);
  if (ts.tv_nsec < 0) {
    ts.tv_nsec += 1000000000;
    --ts.tv_sec;
  }
  return ts;
}

// The first failure of a metadata call, naming what failed.
void Note(Status* first, int rc, const char* what, const std::string& path) {
  if (rc != 0 && first->ok()) *first = Status::FromErrno(errno, std::string(what) + " " + path);
}

class PosixPositionalFile final : public PositionalFile {
 public:
  PosixPositionalFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixPositionalFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status WriteAt(uint64_t offset, ByteView data) override {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t w = ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
      if (w < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno(errno, "write " + path_);
      }
      done += static_cast<size_t>(w);
    }
    return Status::Ok();
  }

  Status Truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return Status::FromErrno(errno, "truncate " + path_);
    return Status::Ok();
  }

  Status SetMetadata(const FileMetadata& m) override {
    Status first;
    if (m.set_owner) Note(&first, ::fchown(fd_, m.uid, m.gid), "chown", path_);
    Note(&first, ::fchmod(fd_, m.mode), "chmod", path_);
    timespec times[2] = {ToTimespec(m.mtime_ns), ToTimespec(m.mtime_ns)};
    Note(&first, ::futimens(fd_, times), "set times of", path_);
    return first;
  }

  Status Close() override { return CloseFd(&fd_, path_); }

 private:
  int fd_;
  std::string path_;
};

class PosixDirectory final : public Directory {
 public:
  PosixDirectory(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixDirectory() override { ::close(fd_); }

  const std::string& path() const override { return path_; }

  Result<std::unique_ptr<Directory>> OpenDir(const std::string& name) override {
    int fd = ::openat(fd_, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(errno, "open directory " + Join(name));
    return NewPosixDirectory(fd, Join(name));
  }

  Status MakeDir(const std::string& name) override {
    if (::mkdirat(fd_, name.c_str(), 0700) != 0) return Status::FromErrno(errno, "create directory " + Join(name));
    return Status::Ok();
  }

  Result<std::unique_ptr<PositionalFile>> CreateFile(const std::string& name) override {
    return Open(name, O_WRONLY | O_CREAT | O_EXCL, "create");
  }

  Result<std::unique_ptr<PositionalFile>> OpenForWrite(const std::string& name, bool create) override {
    return Open(name, O_WRONLY | (create ? O_CREAT : 0), "open");
  }

  Result<std::unique_ptr<ReadableFile>> OpenForRead(const std::string& name) override {
    int fd = ::openat(fd_, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(errno, "open " + Join(name));
    return NewPosixReadableFile(fd, Join(name));
  }

  Result<FileInfo> Lstat(const std::string& name) override {
    struct stat st;
    if (::fstatat(fd_, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return Status::FromErrno(errno, "lstat " + Join(name));
    return InfoFromStat(st);
  }

  Status Remove(const std::string& name) override {
    if (::unlinkat(fd_, name.c_str(), 0) != 0) return Status::FromErrno(errno, "remove " + Join(name));
    return Status::Ok();
  }

  Status MakeSymlink(const std::string& name, const std::string& target) override {
    if (::symlinkat(target.c_str(), fd_, name.c_str()) != 0) return Status::FromErrno(errno, "create symlink " + Join(name));
    return Status::Ok();
  }

  Status MakeSpecial(const std::string& name, FileKind kind, uint64_t rdev) override {
    int rc;
    switch (kind) {
      case FileKind::kFifo: rc = ::mkfifoat(fd_, name.c_str(), 0600); break;
      case FileKind::kDev: rc = ::mknodat(fd_, name.c_str(), S_IFBLK | 0600, static_cast<dev_t>(rdev)); break;
      case FileKind::kCharDev: rc = ::mknodat(fd_, name.c_str(), S_IFCHR | 0600, static_cast<dev_t>(rdev)); break;
      default: return Status::Unsupported("unsupported file type " + Join(name));
    }
    if (rc != 0) return Status::FromErrno(errno, "create " + Join(name));
    return Status::Ok();
  }

  Status Link(const std::string& existing, Directory* dir, const std::string& name) override {
    auto* to = dynamic_cast<PosixDirectory*>(dir);
    if (!to) return Status::Internal("hard link across Env implementations");
    if (::linkat(fd_, existing.c_str(), to->fd_, name.c_str(), 0) != 0)
      return Status::FromErrno(errno, "hard link " + to->Join(name));
    return Status::Ok();
  }

  Status SetMetadata(const std::string& name, const FileMetadata& m) override {
    Status first;
    const std::string path = Join(name);
    if (m.set_owner) Note(&first, ::fchownat(fd_, name.c_str(), m.uid, m.gid, AT_SYMLINK_NOFOLLOW), "chown", path);
    struct stat st;
    const bool link = ::fstatat(fd_, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
    if (!link) Note(&first, ::fchmodat(fd_, name.c_str(), m.mode, 0), "chmod", path);
    timespec times[2] = {ToTimespec(m.mtime_ns), ToTimespec(m.mtime_ns)};
    Note(&first, ::utimensat(fd_, name.c_str(), times, AT_SYMLINK_NOFOLLOW), "set times of", path);
    return first;
  }

 private:
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

  Result<std::unique_ptr<PositionalFile>> Open(const std::string& name, int flags, const char* what) {
    int fd = ::openat(fd_, name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return Status::FromErrno(errno, std::string(what) + " " + Join(name));
    return std::unique_ptr<PositionalFile>(new PosixPositionalFile(fd, Join(name)));
  }

  int fd_;
  std::string path_;
};

}  // namespace

std::unique_ptr<Directory> NewPosixDirectory(int fd, std::string path) {
  return std::make_unique<PosixDirectory>(fd, std::move(path));
}

}  // namespace backspan
