// The worker threads of the HTTP server: whole requests go in, their
// serialized answers come out, and the event loop learns that answers are
// ready from an eventfd it polls. Handlers may block (a store commit); the
// loop never does. A worker idle for a second after work gives the memory
// freed by handlers back to the system.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/message.h"
#include "http/router.h"

namespace backspan::http {

// A JSON error answer ({"error": message}); 503s say when to retry.
Response ErrorResponse(int status, const std::string& message);

class WorkerPool {
 public:
  struct Job {
    uint64_t conn = 0;  // the connection to answer
    Request req;
    bool keep_alive = true;
  };
  struct Done {
    uint64_t conn = 0;
    std::string bytes;  // the answer, serialized
    bool close = false;
  };

  // `router` runs the handlers; at most `max_queued` jobs wait.
  WorkerPool(const Router* router, size_t max_queued);
  ~WorkerPool();  // Stop()

  void Start(int threads);
  // Queues `job`; false (and `waiting` says how many wait) if the queue is full.
  bool Submit(Job job, size_t* waiting);
  // The answers ready since the last call.
  std::vector<Done> TakeDone();
  // Readable when answers are ready; read it (8 bytes) to reset.
  int wake_fd() const { return wake_fd_; }
  // Wakes whoever polls wake_fd (Server::Stop uses it too).
  void Wake();
  // Lets the queued jobs finish, then joins the threads.
  void Stop();

 private:
  void Work();

  const Router* router_;
  const size_t max_queued_;
  int wake_fd_ = -1;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  std::vector<Done> done_;
  bool stopping_ = false;
  bool trim_due_ = false;  // requests ran since memory was last given back
  std::vector<std::thread> threads_;
};

}  // namespace backspan::http
