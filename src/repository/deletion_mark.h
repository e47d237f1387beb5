// Deletion marks: phase one of prune's two-phase removal. A mark names packs
// to delete and the jobs that were running when it was written. Backups that
// start later do not use marked packs; the packs are deleted once the jobs
// are gone and the grace delay has passed, unless a snapshot written by one
// of them needs a pack after all (docs/repository-format.md, "Removing data").
#pragma once

#include <string>
#include <vector>

#include "repository/index.h"

namespace backspan {

struct DeletionMark {
  std::string name;                 // file name in deletions/; not encoded
  int64_t time_ns = 0;              // when the mark was written
  std::vector<std::string> jobs;    // lock job ids live at that time
  std::vector<IndexedPack> packs;   // indexed packs no snapshot needed
  std::vector<IndexedPack> strays;  // packs no index listed (a crashed or running backup's)
};

Bytes EncodeDeletionMark(const DeletionMark& mark);
Result<DeletionMark> DecodeDeletionMark(ByteView plaintext);

}  // namespace backspan
