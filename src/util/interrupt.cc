#include "util/interrupt.h"

#include <atomic>
#include <chrono>
#include <thread>

namespace backspan {
namespace {

std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "a signal handler sets it");

}  // namespace

void RequestInterrupt() noexcept { g_interrupted.store(true, std::memory_order_relaxed); }
bool InterruptRequested() noexcept { return g_interrupted.load(std::memory_order_relaxed); }
void ClearInterrupt() noexcept { g_interrupted.store(false, std::memory_order_relaxed); }

Status InterruptedStatus(const char* what) {
  return Status::Interrupted(std::string(what) + " was interrupted by a signal");
}

bool SleepUnlessInterrupted(int64_t ns) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(ns);
  while (std::chrono::steady_clock::now() < until) {
    if (InterruptRequested()) return false;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        std::chrono::milliseconds(50), until - std::chrono::steady_clock::now()));
  }
  return !InterruptRequested();
}

}  // namespace backspan
