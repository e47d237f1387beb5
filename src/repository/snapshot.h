// Snapshots: one per backup, naming the root tree and describing the job.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "repository/ids.h"
#include "util/status.h"

namespace backspan {

struct BackupSummary {
  uint64_t files_new = 0, files_changed = 0, files_unmodified = 0;
  uint64_t dirs_new = 0, dirs_changed = 0, dirs_unmodified = 0;
  uint64_t data_blobs = 0, tree_blobs = 0;
  uint64_t total_files = 0;   // files in the snapshot
  uint64_t total_bytes = 0;   // their total size
  uint64_t bytes_read = 0;    // file data read from disk
  uint64_t bytes_added = 0;   // new blob data before compression
  uint64_t bytes_stored = 0;  // bytes written to the repository
  uint64_t errors = 0;        // files that could not be read
  double duration_s = 0;
};

struct Snapshot {
  std::string id;  // not stored in the file: the file's name
  int64_t time_ns = 0;
  BlobId tree;
  std::vector<std::string> paths;
  std::string hostname, username;
  uint32_t uid = 0, gid = 0;
  std::vector<std::string> tags;  // "KEY=VALUE"
  std::string parent;             // snapshot id or empty
  std::string program_version;
  std::string trace_id;           // of the job that made it; empty if not traced
  BackupSummary summary;

  // True if the snapshot has every tag in `tags` and, if non-empty, `host`.
  bool Matches(const std::vector<std::string>& tags, const std::string& host) const;
};

// The JSON text a snapshot is stored as (before sealing) and printed as.
std::string SnapshotToJson(const Snapshot& s, bool include_id);
Result<Snapshot> SnapshotFromJson(ByteView json);

// Parses KEY=VALUE; kInvalidArgument if there is no '=' or the key is empty.
Status ValidateTag(const std::string& tag);

}  // namespace backspan
