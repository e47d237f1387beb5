// Packs blobs into pack files of about 16 MiB. Thread-safe: each calling
// thread fills its own pack, so sealing runs in parallel and only the list
// of idle packs is shared. Full packs are made durable (fsync, rename) by a
// background thread, so no caller waits for the disk; their blobs become
// visible in the index once that is done, and stay reserved until then.
// A remote backend commits (uploads) several packs at once.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "backend/backend.h"
#include "repository/index.h"
#include "repository/pack.h"
#include "util/bounded_queue.h"

namespace backspan {

inline constexpr size_t kTargetPackSize = 16 * 1024 * 1024;

class PackerPool {
 public:
  // All pointers must outlive the pool. `bytes_written` counts pack bytes.
  PackerPool(Backend* backend, const MasterKey* key, Index* index,
             std::atomic<uint64_t>* bytes_written, size_t target_pack_size = kTargetPackSize);
  ~PackerPool();

  // Seals `payload` into a pack; hands the pack over for commit when it is
  // full. Data and tree blobs go to separate packs so restores and checks
  // can read trees without touching file data. Returns the error of an
  // earlier failed commit, if any.
  Status Add(BlobType type, const BlobId& id, bool compressed, uint32_t raw_length,
             ByteView payload);

  // Finishes every partly filled pack and waits until all packs are
  // durable and indexed.
  Status Flush();

 private:
  struct Finished {
    std::unique_ptr<PackWriter> writer;
    IndexedPack indexed;
  };
  Status Finish(std::unique_ptr<PackWriter> writer);
  void CommitLoop();
  Status FirstError();

  Backend* backend_;
  const MasterKey* key_;
  Index* index_;
  std::atomic<uint64_t>* bytes_written_;
  size_t target_;
  std::mutex mu_;
  std::vector<std::unique_ptr<PackWriter>> idle_[2];  // by BlobType
  std::unique_ptr<BoundedQueue<Finished>> to_commit_;
  std::vector<std::thread> committers_;
  std::mutex error_mu_;
  Status error_;
};

}  // namespace backspan
