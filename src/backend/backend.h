// Backend: where repository files live. A backend stores whole, immutable
// files by (type, name); the engine never sees paths or URLs. Implemented by
// backend/local and, over backend/object, backend/azure and backend/s3.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "util/bytes.h"
#include "util/status.h"

namespace backspan {

enum class FileType { kConfig, kKey, kPack, kIndex, kSnapshot, kLock, kDeletion };

// The directory (or key prefix) of a file type: "keys", "data", ...
const char* FileTypeDir(FileType type);

// A file being written whose name is known only when it is complete, as
// with content-addressed packs. Destroying it uncommitted discards it.
class PendingFile {
 public:
  virtual ~PendingFile() = default;
  virtual Status Append(ByteView data) = 0;
  // Makes the file durable and visible under `name`, atomically.
  virtual Status Commit(const std::string& name) = 0;
};

// A file a writer left half-written (a temporary file, an unfinished
// upload): never part of the repository, only space.
struct Leftover {
  std::string name;      // for RemoveLeftover
  uint64_t size = 0;
  int64_t mtime_ns = 0;  // when it was last written
};

// Requests a remote backend made, by operation kind ("put", "get", "list",
// ...), for the job's span and the benchmarks.
struct RequestCounts {
  std::string operation;
  uint64_t requests = 0, retries = 0, failures = 0;
  uint64_t bytes_sent = 0, bytes_received = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // A description of the location safe to print or export: no credentials.
  virtual std::string Location() const = 0;

  // Creates the empty repository layout; fails if a repository exists there.
  virtual Status Create() = 0;
  // True if a repository config file exists at this location.
  virtual Result<bool> IsRepository() = 0;

  // Stores a file atomically and durably: once Save returns Ok the whole
  // file survives a crash; on failure no partial file is visible.
  virtual Status Save(FileType type, const std::string& name, ByteView data) = 0;
  // Starts a file to be named on commit; data streams out as it is
  // appended, so large files need not be held in memory.
  virtual Result<std::unique_ptr<PendingFile>> Begin(FileType type) = 0;
  // Reads `length` bytes at `offset`, or the whole file when length is 0.
  virtual Result<Bytes> Load(FileType type, const std::string& name, uint64_t offset = 0,
                             uint64_t length = 0) = 0;
  // Reads a range of a pack that holds trees (metadata every backup and
  // restore reads again): a cache in front of a remote backend keeps such
  // packs. By default, Load.
  virtual Result<Bytes> LoadTreeRange(const std::string& pack, uint64_t offset, uint64_t length) {
    return Load(FileType::kPack, pack, offset, length);
  }
  virtual Result<uint64_t> Size(FileType type, const std::string& name) = 0;
  // Names of all files of a type (for kConfig: "config" if present).
  virtual Result<std::vector<std::string>> List(FileType type) = 0;
  // Names and sizes of all files of a type. By default List, then Size for
  // each; an object store's listing has the sizes already.
  virtual Result<std::vector<std::pair<std::string, uint64_t>>> ListSizes(FileType type);
  virtual Status Remove(FileType type, const std::string& name) = 0;

  // What interrupted writers left behind, and its removal (prune removes
  // only leftovers too old to belong to a writer still running).
  virtual Result<std::vector<Leftover>> ListLeftovers() = 0;
  virtual Status RemoveLeftover(const std::string& name) = 0;

  // Ok if these credentials may remove files, PermissionDenied if not;
  // forget and prune ask first, so that append-only credentials fail
  // them before anything is written.
  virtual Status CheckRemovable() { return Status::Ok(); }
  // How many files should be committed at once: a remote backend uploads
  // several packs in parallel; a disk commits one at a time.
  virtual int CommitConcurrency() const { return 1; }
  // How many reads are worth having in flight at once: a remote backend
  // hides each request's latency behind the others'.
  virtual int ReadConcurrency() const { return 1; }
  // The requests made so far, for remote backends.
  virtual std::vector<RequestCounts> Counts() const { return {}; }
};

}  // namespace backspan
