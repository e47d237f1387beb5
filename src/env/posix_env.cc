#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <ctime>
#include <random>

#include "env/env.h"
#include "env/posix_direct_file.h"
#include "env/posix_files.h"
#include "util/hex.h"

namespace backspan {

FileInfo InfoFromStat(const struct stat& st) {
  FileInfo info;
  switch (st.st_mode & S_IFMT) {
    case S_IFREG: info.kind = FileKind::kFile; break;
    case S_IFDIR: info.kind = FileKind::kDir; break;
    case S_IFLNK: info.kind = FileKind::kSymlink; break;
    case S_IFBLK: info.kind = FileKind::kDev; break;
    case S_IFCHR: info.kind = FileKind::kCharDev; break;
    case S_IFIFO: info.kind = FileKind::kFifo; break;
    case S_IFSOCK: info.kind = FileKind::kSocket; break;
    default: info.kind = FileKind::kOther;
  }
  info.mode = st.st_mode & 07777;
  info.uid = st.st_uid;
  info.gid = st.st_gid;
  info.size = static_cast<uint64_t>(st.st_size);
  info.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  info.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  info.dev = st.st_dev;
  info.inode = st.st_ino;
  info.nlink = st.st_nlink;
  info.rdev = st.st_rdev;
  return info;
}

namespace {

class PosixReadableFile final : public ReadableFile {
 public:
  PosixReadableFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixReadableFile() override { ::close(fd_); }

  Result<size_t> ReadAt(uint64_t offset, uint8_t* dst, size_t n) override {
    while (true) {
      ssize_t r = ::pread(fd_, dst, n, static_cast<off_t>(offset));
      if (r >= 0) return static_cast<size_t>(r);
      if (errno != EINTR) return Status::FromErrno(errno, "read " + path_);
    }
  }

  Result<FileInfo> Stat() override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return Status::FromErrno(errno, "stat " + path_);
    return InfoFromStat(st);
  }

 private:
  int fd_;
  std::string path_;
};

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(ByteView data) override {
    const uint8_t* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t w = ::write(fd_, p, left);
      if (w < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno(errno, "write " + path_);
      }
      p += w;
      left -= static_cast<size_t>(w);
    }
    return Status::Ok();
  }

  Status Sync() override {
    if (::fdatasync(fd_) != 0) return Status::FromErrno(errno, "fsync " + path_);
    return Status::Ok();
  }

  Status Close() override { return CloseFd(&fd_, path_); }

 private:
  int fd_;
  std::string path_;
};

class PosixEnv final : public Env {
 public:
  Result<std::unique_ptr<ReadableFile>> OpenForRead(const std::string& path) override {
    // O_NOATIME avoids dirtying inodes; it is refused for files we do not own.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOATIME);
    if (fd < 0 && errno == EPERM) fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return Status::FromErrno(errno, "open " + path);
    return NewPosixReadableFile(fd, path);
  }

  Result<FileInfo> Lstat(const std::string& path) override {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return Status::FromErrno(errno, "lstat " + path);
    return InfoFromStat(st);
  }

  Result<std::vector<DirEntry>> ReadDir(const std::string& path) override {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return Status::FromErrno(errno, "open directory " + path);
    std::vector<DirEntry> entries;
    errno = 0;
    while (struct dirent* e = ::readdir(dir)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") entries.push_back({std::move(name)});
      errno = 0;
    }
    int err = errno;
    ::closedir(dir);
    if (err != 0) return Status::FromErrno(err, "read directory " + path);
    return entries;
  }

  Result<std::string> ReadLink(const std::string& path) override {
    std::string buf(256, '\0');
    while (true) {
      ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
      if (n < 0) return Status::FromErrno(errno, "readlink " + path);
      if (static_cast<size_t>(n) < buf.size()) {
        buf.resize(static_cast<size_t>(n));
        return buf;
      }
      buf.resize(buf.size() * 2);
    }
  }

  bool Exists(const std::string& path) override {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
  }

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                        WriteHint hint) override {
    if (hint == WriteHint::kStreamOnce) return NewPosixDirectFile(path);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return Status::FromErrno(errno, "create " + path);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(fd, path));
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0)
      return Status::FromErrno(errno, "rename " + from + " to " + to);
    return Status::Ok();
  }

  Status Remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return Status::FromErrno(errno, "remove " + path);
    return Status::Ok();
  }

  Status CreateDir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
      return Status::FromErrno(errno, "create directory " + path);
    return Status::Ok();
  }

  Status SyncDir(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(errno, "open directory " + path);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return Status::FromErrno(err, "fsync directory " + path);
    return Status::Ok();
  }

  Result<std::unique_ptr<Directory>> OpenDirectory(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(errno, "open directory " + path);
    return NewPosixDirectory(fd, path);
  }

  int64_t NowUnixNanos() override {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
  }

  int64_t MonotonicNanos() override {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
  }
};

}  // namespace

Status CloseFd(int* fd, const std::string& path) {
  const int closing = *fd;
  *fd = -1;
  if (::close(closing) != 0) return Status::FromErrno(errno, "close " + path);
  return Status::Ok();
}

std::unique_ptr<ReadableFile> NewPosixReadableFile(int fd, std::string path) {
  return std::make_unique<PosixReadableFile>(fd, std::move(path));
}

namespace {
std::atomic<Env*> g_default_env{nullptr};
}

Env* Env::Default() {
  static PosixEnv* posix = new PosixEnv();
  Env* e = g_default_env.load(std::memory_order_acquire);
  return e ? e : posix;
}

void Env::SetDefault(Env* env) { g_default_env.store(env, std::memory_order_release); }

Status WriteFileAtomic(Env* env, const std::string& path, ByteView data) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t r = rng();
  std::string tmp = path + ".tmp-" + HexEncode({reinterpret_cast<uint8_t*>(&r), sizeof r});
  ASSIGN_OR_RETURN(auto file, env->NewWritableFile(tmp));
  Status st = file->Append(data);
  if (st.ok()) st = file->Sync();
  Status close_st = file->Close();
  if (st.ok()) st = close_st;
  if (st.ok()) st = env->Rename(tmp, path);
  if (!st.ok()) {
    (void)env->Remove(tmp);  // best effort: never leave a partial temporary behind
    return st;
  }
  return env->SyncDir(dir);
}

Status CreateDirs(Env* env, const std::string& path) {
  for (size_t pos = 1; (pos = path.find('/', pos)) != std::string::npos; ++pos)
    RETURN_IF_ERROR(env->CreateDir(path.substr(0, pos)));
  return env->CreateDir(path);
}

Result<Bytes> ReadWholeFile(Env* env, const std::string& path) {
  ASSIGN_OR_RETURN(auto file, env->OpenForRead(path));
  ASSIGN_OR_RETURN(FileInfo info, file->Stat());
  Bytes out(info.size);
  size_t got = 0;
  while (got < out.size()) {
    ASSIGN_OR_RETURN(size_t n, file->ReadAt(got, out.data() + got, out.size() - got));
    if (n == 0) break;
    got += n;
  }
  out.resize(got);
  return out;
}

}  // namespace backspan
