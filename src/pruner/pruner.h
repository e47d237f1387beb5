// Pruner: removes data that no snapshot references, with the two-phase
// protocol that lets backups run alongside (docs/repository-format.md,
// "Removing data"). Phase one repacks partly used packs and marks the packs
// to remove; backups that start later leave marked packs alone. Phase two,
// once every job running at the mark is gone and the grace delay has
// passed, drops the marked packs from the index and deletes them, except
// any that a snapshot written meanwhile still needs. Temporary files left
// by interrupted writers go too, once no live writer can own them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "repository/repository.h"
#include "trace/tracer.h"

namespace backspan {

struct PruneOptions {
  bool dry_run = false;
  double max_unused_percent = 5;  // unused data allowed to stay in partly used packs; <0: any
  int64_t grace_ns = 10LL * 1000000000;
  std::string hostname;  // to judge whether locks of this host are stale
  std::string own_job;   // the job id of our own lock, never waited for
  const trace::Span* trace = nullptr;  // the job's span: each step becomes a child span
};

struct PruneStats {
  uint64_t snapshots = 0;
  uint64_t packs = 0, packs_used = 0, packs_partly_used = 0, packs_unused = 0, packs_unindexed = 0;
  uint64_t bytes_used = 0, bytes_unused = 0;  // sealed blob bytes in indexed packs
  uint64_t packs_repacked = 0, blobs_repacked = 0, bytes_repacked = 0;
  uint64_t packs_marked = 0;      // by this run
  uint64_t packs_deleted = 0;     // this run, from marks old and new
  uint64_t packs_resurrected = 0; // marked packs a snapshot written meanwhile still needed
  uint64_t marks_pending = 0;     // marks still waiting for jobs or the grace delay
  // Temporary files of interrupted writers: removed once older than a lock
  // can stay unrefreshed (no live writer has touched them that long).
  uint64_t leftovers_removed = 0, leftover_bytes_removed = 0, leftovers_kept = 0;
  std::vector<std::string> waiting_for;  // job ids the pending marks wait for
  std::vector<std::string> notices;
};

class Pruner {
 public:
  // `repo` must not have loaded its index; the pruner loads it.
  Pruner(Repository* repo, PruneOptions options) : repo_(repo), opts_(std::move(options)) {}

  // Runs both phases. An error before the index is rewritten leaves the
  // repository as it was; any later crash leaves it valid (see the docs).
  Result<PruneStats> Run();

 private:
  Repository* repo_;
  PruneOptions opts_;
};

}  // namespace backspan
