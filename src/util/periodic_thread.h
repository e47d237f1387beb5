// A thread that calls a function every so often until it is destroyed:
// the background loops (checks, heartbeats, relays) that every long-lived
// component of the observatory has. Declare it last among an owner's
// members, so that it stops before what its function uses goes.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

namespace backspan {

class PeriodicThread {
 public:
  // Calls `tick` every `interval` (the first time after one interval).
  PeriodicThread(std::chrono::milliseconds interval, std::function<void()> tick)
      : interval_(interval), tick_(std::move(tick)), thread_([this] { Loop(); }) {}
  // Wakes the thread and waits for a tick under way to end.
  ~PeriodicThread() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, interval_, [&] { return stop_; })) {
      lock.unlock();
      tick_();
      lock.lock();
    }
  }

  const std::chrono::milliseconds interval_;
  const std::function<void()> tick_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the rest is ready
};

}  // namespace backspan
