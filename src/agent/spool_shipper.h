// Delivers the spool to the observatory, oldest entry first, one at a time:
// an entry is removed once the observatory took it (2xx) or refused it for
// good (a 4xx other than 401, 403, 408 and 429: logged and counted, so that
// one bad entry never blocks the ones behind it). Anything else (no answer,
// 5xx, 429, a token problem) stops delivery and retries with backoff, from
// 1 s up to a minute, so entries arrive in order and none is lost.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "agent/observatory_client.h"
#include "trace/export/spool.h"

namespace backspan::agent {

class SpoolShipper {
 public:
  // `log` receives one line per delivery problem (not per retry).
  SpoolShipper(trace::Spool* spool, ObservatoryClient* client, std::function<void(const std::string&)> log);
  ~SpoolShipper();

  void Start();
  // Wakes the shipper: something new is in the spool.
  void Notify();
  // Delivers what it can now, in the calling thread; false if the
  // observatory did not take everything.
  bool DeliverAll();
  // Stops the thread (after the entry being sent).
  void Stop();

  int64_t delivered() const { return delivered_; }
  int64_t refused() const { return refused_; }

 private:
  void Loop();

  trace::Spool* spool_;
  ObservatoryClient* client_;
  std::function<void(const std::string&)> log_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false, pending_ = false;
  std::thread thread_;
  std::atomic<int64_t> delivered_{0}, refused_{0};
  std::string last_problem_;
};

}  // namespace backspan::agent
