// Deletion marks: phase one of prune's two-phase removal. A mark names packs
// that no index lists any more and the jobs that might still use them; the
// packs are deleted once those jobs are gone and the grace delay has passed
// (docs/repository-format.md, "Removing data").
#pragma once

#include <string>
#include <vector>

#include "repository/index.h"

namespace backspan {

struct DeletionMark {
  std::string name;                 // file name in deletions/; not encoded
  int64_t time_ns = 0;              // when the mark was written
  std::vector<std::string> jobs;    // lock job ids live at that time
  std::vector<IndexedPack> packs;   // the packs and their blobs, to resurrect any still needed
};

Bytes EncodeDeletionMark(const DeletionMark& mark);
Result<DeletionMark> DecodeDeletionMark(ByteView plaintext);

}  // namespace backspan
