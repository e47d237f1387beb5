// Env: every filesystem and clock access of the engine goes through this
// interface, as in LevelDB. The POSIX implementation is Env::Default();
// tests wrap it to inject faults (EIO, ENOSPC, short writes, failed fsync)
// and later backends reuse the engine unchanged.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "util/bytes.h"
#include "util/status.h"

namespace backspan {

enum class FileKind : uint8_t { kFile, kDir, kSymlink, kDev, kCharDev, kFifo, kSocket, kOther };

// The lstat(2) facts the archiver records.
struct FileInfo {
  FileKind kind = FileKind::kOther;
  uint32_t mode = 0;  // permission bits incl. setuid/setgid/sticky
  uint32_t uid = 0, gid = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0, ctime_ns = 0;
  uint64_t dev = 0, inode = 0, nlink = 0, rdev = 0;
};

class Directory;

struct DirEntry {
  std::string name;
};

// A file opened for reading; Read may be called from one thread at a time.
class ReadableFile {
 public:
  virtual ~ReadableFile() = default;
  // Reads up to n bytes at offset into dst; returns bytes read (0 at EOF).
  virtual Result<size_t> ReadAt(uint64_t offset, uint8_t* dst, size_t n) = 0;
  // Current lstat facts of the open file (fstat).
  virtual Result<FileInfo> Stat() = 0;
};

// How a new file will be written. kStreamOnce: a large file written
// sequentially, once, and not read back soon (a pack); the Env may then keep
// it out of the page cache, which saves a copy and evicts nothing useful.
enum class WriteHint { kDefault, kStreamOnce };

// A file being written; the data is durable only after Sync() succeeds.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(ByteView data) = 0;
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide Env: the POSIX one unless SetDefault replaced it.
  // Never deleted.
  static Env* Default();
  // Replaces the process-wide Env, for fault-injection harnesses. Call it
  // before anything else runs; `env` must live until the process exits.
  static void SetDefault(Env* env);

  // Reading.
  virtual Result<std::unique_ptr<ReadableFile>> OpenForRead(const std::string& path) = 0;
  virtual Result<FileInfo> Lstat(const std::string& path) = 0;
  virtual Result<std::vector<DirEntry>> ReadDir(const std::string& path) = 0;
  virtual Result<std::string> ReadLink(const std::string& path) = 0;
  virtual bool Exists(const std::string& path) = 0;

  // Writing. NewWritableFile creates a new file and fails if it exists.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                                WriteHint hint) = 0;
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) {
    return NewWritableFile(path, WriteHint::kDefault);
  }
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status Remove(const std::string& path) = 0;
  // Creates a directory; succeeds if it already exists.
  virtual Status CreateDir(const std::string& path) = 0;
  // fsyncs a directory so that renames and creations in it are durable.
  virtual Status SyncDir(const std::string& path) = 0;

  // Opens directory `path` to create and change files beneath it
  // (directory.h). Links in `path` itself are followed, as in any path a
  // user names; nothing beneath it is.
  virtual Result<std::unique_ptr<Directory>> OpenDirectory(const std::string& path) = 0;

  // Clock.
  virtual int64_t NowUnixNanos() = 0;    // wall clock
  virtual int64_t MonotonicNanos() = 0;  // for durations and timeouts
};

// Writes `data` to `path` crash-safely: a temporary file in the same
// directory, fsync, rename, fsync the directory. A crash leaves either no
// file or the whole file at `path`, never a torn one.
Status WriteFileAtomic(Env* env, const std::string& path, ByteView data);

// Creates `path` and any missing parents (mkdir -p), each private to the user.
Status CreateDirs(Env* env, const std::string& path);

// Reads a whole file.
Result<Bytes> ReadWholeFile(Env* env, const std::string& path);

}  // namespace backspan
