// Trees: the directory listings of a snapshot, stored as blobs of type tree.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "env/env.h"
#include "repository/ids.h"
#include "util/status.h"

namespace backspan {

struct Node {
  std::string name;  // raw bytes of the file name; may be any non-UTF-8 sequence
  FileKind kind = FileKind::kFile;
  uint32_t mode = 0;
  uint32_t uid = 0, gid = 0;
  int64_t mtime_ns = 0, ctime_ns = 0;
  uint64_t dev = 0, inode = 0, nlink = 0, rdev = 0;
  uint64_t size = 0;
  std::string link_target;      // symlinks
  std::vector<BlobId> content;  // regular files, in order
  BlobId subtree;               // directories
};

struct Tree {
  std::vector<Node> nodes;  // sorted by name, names unique
};

Bytes EncodeTree(const Tree& tree);
// Decodes and validates a tree: names must be non-empty, without '/' or NUL,
// not "." or "..", sorted and unique. A tree that fails is kCorruption, so a
// malicious snapshot can never name a path outside its directory.
Result<Tree> DecodeTree(ByteView data);

// True if `name` is a safe single path component.
bool IsSafeName(const std::string& name);

}  // namespace backspan
