// A budget of bytes shared by threads that each need a large, short-lived
// working set (decoding a request can take twenty times its size): a thread
// takes its share before the work and gives it back after, so the total
// stays under the budget however many arrive at once. Work larger than the
// whole budget takes all of it, alone.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace backspan {

class MemoryBudget {
 public:
  explicit MemoryBudget(uint64_t bytes) : total_(std::max<uint64_t>(bytes, 1)) {}

  // Bytes held while alive; empty (ok() false) if they did not free up in time.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& o) noexcept : budget_(o.budget_), bytes_(o.bytes_) { o.budget_ = nullptr; }
    Lease& operator=(Lease&& o) noexcept {
      std::swap(budget_, o.budget_);
      std::swap(bytes_, o.bytes_);
      return *this;
    }
    ~Lease() {
      if (budget_) budget_->Release(bytes_);
    }
    bool ok() const { return budget_ != nullptr; }

   private:
    friend class MemoryBudget;
    Lease(MemoryBudget* b, uint64_t n) : budget_(b), bytes_(n) {}
    MemoryBudget* budget_ = nullptr;
    uint64_t bytes_ = 0;
  };

  // Waits up to `timeout` until `bytes` (at most the whole budget) are free.
  Lease Acquire(uint64_t bytes, std::chrono::milliseconds timeout) {
    bytes = std::min(bytes, total_);
    std::unique_lock<std::mutex> l(mu_);
    if (!cv_.wait_for(l, timeout, [&] { return used_ + bytes <= total_; })) return Lease();
    used_ += bytes;
    return Lease(this, bytes);
  }

  uint64_t used() const {
    std::lock_guard<std::mutex> l(mu_);
    return used_;
  }
  uint64_t total() const { return total_; }

 private:
  void Release(uint64_t bytes) {
    {
      std::lock_guard<std::mutex> l(mu_);
      used_ -= bytes;
    }
    cv_.notify_all();
  }

  const uint64_t total_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t used_ = 0;
};

}  // namespace backspan
