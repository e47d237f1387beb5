// `repair index`: rebuilds the index from what the packs themselves say.
// Every stored pack's header (its last bytes only) is read and the packs
// are listed in new index files; then every old index file is removed, the
// damaged ones included. Run under an exclusive lock: no writer may add an
// index file meanwhile. What no pack header lists is then known missing,
// and `check` names the snapshots and files it affects.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "repository/repository.h"
#include "trace/tracer.h"

namespace backspan {

struct IndexRepairStats {
  uint64_t packs = 0, blobs = 0;
  uint64_t index_files_written = 0, index_files_removed = 0;
  // Packs whose header could not be read: left out of the index ("pack 1a2b3c4d: why").
  std::vector<std::string> unreadable;
};

// `repo` must not have loaded its index. `trace`: each step becomes a
// child span of it. Nothing is removed until the new index files are
// durable, so an interruption leaves both and the next run finishes.
Result<IndexRepairStats> RepairIndex(Repository* repo, const trace::Span* trace = nullptr);

}  // namespace backspan
