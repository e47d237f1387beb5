// Filling restored files pack by pack, for a remote repository: every blob
// the files need is grouped by the pack that holds it, each pack is read
// once, in spans of neighbouring blobs (one ranged GET for many blobs), by
// several readers at a time, and each blob is written to every place that
// needs it. Over an object store a request costs milliseconds, so this is
// what brings a restore near a plain download of the same bytes; on a disk
// the file-by-file order of the restorer is as fast and simpler.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "env/directory.h"
#include "repository/repository.h"

namespace backspan {

// A file to fill: created, empty, by its first write.
struct FileToFill {
  Directory* dir;    // its directory, open for the whole fill
  std::string name;  // within it
  std::string path;  // for messages
  std::vector<BlobId> content;
};

struct FillCallbacks {
  // Bytes of file content written (progress).
  std::function<void(uint64_t bytes)> on_bytes;
  // Once per file, when it is complete or has failed: its size, and where
  // its last written byte ends (it may end in a hole).
  std::function<void(size_t file, const Status& status, uint64_t size, uint64_t written_end)> on_done;
};

// How many files each reader keeps open between writes.
inline constexpr unsigned kOpenFilesPerReader = 64;

// Fills `files` with `threads` readers, reading spans of at most
// `max_span` bytes (a larger blob is read alone). Returns when every file
// is done; stops early, with each unfinished file reported interrupted,
// when an interrupt is requested.
void FillByPack(Repository* repo, const std::vector<FileToFill>& files, unsigned threads, uint64_t max_span,
                const FillCallbacks& callbacks);

}  // namespace backspan
