// Directory handles: what the restorer creates and changes files through.
// Every name is one path component, taken relative to an open directory,
// and no call follows a symbolic link in the name's place, so a restore
// cannot be led outside its target by a link, whether it was there before
// or the snapshot holds it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "env/env.h"
#include "util/bytes.h"
#include "util/status.h"

namespace backspan {

// What a restore sets on a file, a directory or a link.
struct FileMetadata {
  uint32_t mode = 0;         // permission bits (not set on symlinks)
  uint32_t uid = 0, gid = 0;  // set only with `set_owner`
  bool set_owner = false;
  int64_t mtime_ns = 0;      // also the access time
};

// A file written at offsets, by several writers at distinct ranges.
class PositionalFile {
 public:
  virtual ~PositionalFile() = default;
  // Writes all of `data` at `offset`.
  virtual Status WriteAt(uint64_t offset, ByteView data) = 0;
  // Sets the file's size (a file that ends in a hole).
  virtual Status Truncate(uint64_t size) = 0;
  // Sets owner, mode and times; each part is tried even if another failed.
  virtual Status SetMetadata(const FileMetadata& m) = 0;
  virtual Status Close() = 0;
};

class Directory {
 public:
  virtual ~Directory() = default;
  // The path it was opened by, for messages.
  virtual const std::string& path() const = 0;

  // The subdirectory `name`; an error if it is anything else (a symlink too).
  virtual Result<std::unique_ptr<Directory>> OpenDir(const std::string& name) = 0;
  // Creates subdirectory `name`, private to the user until its metadata is
  // set; kAlreadyExists if something has that name.
  virtual Status MakeDir(const std::string& name) = 0;
  // Creates regular file `name` (O_EXCL), private to the user;
  // kAlreadyExists if something has that name.
  virtual Result<std::unique_ptr<PositionalFile>> CreateFile(const std::string& name) = 0;
  // Opens regular file `name` for writing, creating it if `create`.
  virtual Result<std::unique_ptr<PositionalFile>> OpenForWrite(const std::string& name, bool create) = 0;
  virtual Result<std::unique_ptr<ReadableFile>> OpenForRead(const std::string& name) = 0;
  virtual Result<FileInfo> Lstat(const std::string& name) = 0;
  // Removes `name`, which is not a directory.
  virtual Status Remove(const std::string& name) = 0;
  virtual Status MakeSymlink(const std::string& name, const std::string& target) = 0;
  // A FIFO, or a block or character device (kDev, kCharDev) numbered `rdev`.
  virtual Status MakeSpecial(const std::string& name, FileKind kind, uint64_t rdev) = 0;
  // A hard link `name` in `dir` to this directory's `existing`.
  virtual Status Link(const std::string& existing, Directory* dir, const std::string& name) = 0;
  // Sets the metadata of `name` without following it if it is a symlink.
  virtual Status SetMetadata(const std::string& name, const FileMetadata& m) = 0;
};

}  // namespace backspan
