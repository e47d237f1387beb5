// Read-ahead for a remote repository: a blob read fetches a window of its
// pack (up to where the pack's blobs end), and the next blobs of that pack
// come from memory. Files are restored, and trees walked, in about the order
// their blobs were packed, so one ranged GET serves many blobs instead of
// one each: what makes restore, check and ls fast over an object store,
// where a request costs milliseconds. A disk needs none of it.
#pragma once

#include <cstdint>
#include <future>
#include <list>
#include <memory>
#include <mutex>
#include <string>

#include "backend/backend.h"
#include "util/status.h"

namespace backspan {

class ReadAhead {
 public:
  // Windows of `window` bytes; at most `capacity` of them are kept.
  ReadAhead(uint64_t window, size_t capacity) : window_(window), capacity_(capacity) {}

  // The `length` bytes at `offset` of `pack`, whose blobs end at
  // `data_end`: from a window in memory, or a new one read through
  // `backend` (LoadTreeRange when `tree`, so a cache in front sees tree
  // data). Thread-safe; readers of a window being fetched wait for it
  // rather than fetch it again.
  Result<Bytes> Read(Backend* backend, const std::string& pack, uint64_t offset, uint64_t length, uint64_t data_end,
                     bool tree);

 private:
  using Data = std::shared_ptr<const Bytes>;
  struct Window {
    std::string pack;
    uint64_t start = 0, end = 0;
    std::shared_future<Data> data;  // null on a failed read
  };

  const uint64_t window_;
  const size_t capacity_;
  std::mutex mu_;
  std::list<Window> windows_;  // most recently used first; some still being read
};

}  // namespace backspan
