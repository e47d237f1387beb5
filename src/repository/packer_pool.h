// Packs blobs into pack files of about 16 MiB. Thread-safe: each calling
// thread fills its own pack, so sealing runs in parallel and only the list
// of idle packs is shared.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "backend/backend.h"
#include "repository/index.h"
#include "repository/pack.h"

namespace backspan {

inline constexpr size_t kTargetPackSize = 16 * 1024 * 1024;

class PackerPool {
 public:
  // All pointers must outlive the pool. `bytes_written` counts pack bytes.
  PackerPool(Backend* backend, const MasterKey* key, Index* index,
             std::atomic<uint64_t>* bytes_written, size_t target_pack_size = kTargetPackSize);

  // Seals `payload` into a pack; commits the pack when it is full. Data and
  // tree blobs go to separate packs so restores and checks can read trees
  // without touching file data.
  Status Add(BlobType type, const BlobId& id, bool compressed, uint32_t raw_length,
             ByteView payload);

  // Commits every partly filled pack.
  Status Flush();

 private:
  Status Commit(std::unique_ptr<PackWriter> writer);

  Backend* backend_;
  const MasterKey* key_;
  Index* index_;
  std::atomic<uint64_t>* bytes_written_;
  size_t target_;
  std::mutex mu_;
  std::vector<std::unique_ptr<PackWriter>> idle_[2];  // by BlobType
};

}  // namespace backspan
