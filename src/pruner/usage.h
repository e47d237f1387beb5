// What a prune decides from: the snapshots and index files as they are
// now, the blobs the snapshots reach, and the index rewritten without the
// packs that go.
#pragma once

#include <map>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "repository/repository.h"

namespace backspan {

using BlobSet = std::unordered_set<BlobId, IdHash>;

// Snapshots first, then the index: a snapshot is written after the index
// files for its data, so every snapshot listed has its index visible.
struct State {
  std::vector<Snapshot> snapshots;
  std::vector<IndexedPack> listed;
  std::vector<std::string> index_files;
  std::map<PackId, std::vector<PackEntry>> packs;  // from all index files
};

// Reads the state; Corruption (with what to do) if an index file is damaged.
Result<State> LoadState(Repository* repo);

// Adds every blob reachable from `snapshots` to `used`. Fails if a tree is
// unreadable or a blob is not indexed: then what is unused cannot be known.
Status CollectUsed(Repository* repo, const std::vector<Snapshot>& snapshots, BlobSet* used);

// Writes index files for every pack of `st` but `drop`, then removes the old
// ones: readers always find every pack that stays.
Status WriteIndexWithout(Repository* repo, const State& st, const std::set<PackId>& drop);

// `st`, unless its code is `ignorable` (e.g. a file someone else removed).
inline Status Ignore(Status st, ErrorCode ignorable) { return st.code() == ignorable ? Status::Ok() : st; }

}  // namespace backspan
