// The in-memory index: which pack holds each blob. Built from the index
// files at open and extended as packs are written. Thread-safe.
#pragma once

#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "repository/ids.h"
#include "repository/pack.h"
#include "util/status.h"

namespace backspan {

struct BlobLocation {
  PackId pack;
  PackEntry entry;
  // Where the pack's blobs end, as far as the index knows (the header
  // follows): how far a read-ahead may go.
  uint64_t pack_data_end = 0;
};

// One pack and its blobs, as an index file lists them.
struct IndexedPack {
  PackId id;
  std::vector<PackEntry> entries;
};

class Index {
 public:
  std::optional<BlobLocation> Lookup(const BlobId& id) const;
  bool Has(const BlobId& id) const;

  // Claims the right to store `id`: true if no pack holds it and no other
  // thread has claimed it. Keeps one backup from storing a blob twice.
  bool Reserve(const BlobId& id);

  // Records a pack written to the backend; its blobs become visible and the
  // pack is queued for the next index file.
  void AddPack(IndexedPack pack);
  // Records a pack read from an existing index file (not queued again).
  void AddSavedPack(IndexedPack pack);

  // Packs added since the last call, for writing an index file.
  std::vector<IndexedPack> TakeUnsaved();

  std::vector<PackId> Packs() const;
  // Forgets everything, to load the index afresh.
  void Clear();
  size_t BlobCount() const;

 private:
  void Insert(const IndexedPack& pack);

  mutable std::mutex mu_;
  std::vector<PackId> packs_;
  std::vector<uint64_t> pack_data_end_;  // by position in packs_
  struct Slot {
    uint32_t pack;  // position in packs_
    PackEntry entry;
  };
  std::unordered_map<BlobId, Slot, IdHash> blobs_;
  std::unordered_set<BlobId, IdHash> reserved_;
  std::vector<IndexedPack> unsaved_;
};

// Index file plaintext encoding (docs/repository-format.md).
Bytes EncodeIndexFile(const std::vector<IndexedPack>& packs);
Result<std::vector<IndexedPack>> DecodeIndexFile(ByteView plaintext);

}  // namespace backspan
