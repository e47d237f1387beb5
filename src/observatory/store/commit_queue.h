// Writes waiting for a store's one writer thread (group commit): each
// caller blocks in Submit until the writer has committed its batch, or
// failed to; the writer takes many at a time and commits them in one
// transaction. Both stores write through one of these.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <vector>

#include "observatory/access/scope.h"
#include "observatory/store/span_store.h"

namespace backspan::observatory {

class CommitQueue {
 public:
  struct Request {
    IngestBatch batch;
    Scope writer;
    WriteOutcome outcome;  // the writer fills it in
    Status result;
    bool done = false;
  };

  // Queues the batch and waits for the writer's verdict; IOError once the
  // queue is stopping.
  Result<WriteOutcome> Submit(IngestBatch batch, const Scope& writer) {
    Request r;
    r.batch = std::move(batch);
    r.writer = writer;
    std::unique_lock<std::mutex> l(mu_);
    if (stopping_) return Status::IOError("the store is shutting down");
    queue_.push_back(&r);
    work_.notify_one();
    done_.wait(l, [&] { return r.done; });
    if (!r.result.ok()) return r.result;
    return std::move(r.outcome);
  }

  // The writer: up to `max` requests, waiting up to `wait` for the first
  // (none on a timeout); false once stopping with nothing left.
  bool Take(size_t max, std::chrono::milliseconds wait, std::vector<Request*>* out) {
    out->clear();
    std::unique_lock<std::mutex> l(mu_);
    work_.wait_for(l, wait, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty() && stopping_) return false;
    while (!queue_.empty() && out->size() < max) {
      out->push_back(queue_.front());
      queue_.pop_front();
    }
    return true;
  }

  // Whether a request waits, after waiting up to `wait` for one.
  bool WaitForMore(std::chrono::milliseconds wait) {
    std::unique_lock<std::mutex> l(mu_);
    return work_.wait_for(l, wait, [&] { return stopping_ || !queue_.empty(); }) && !queue_.empty();
  }

  // Answers the requests the writer took (their result and outcome set).
  void Finish(const std::vector<Request*>& requests) {
    {
      std::lock_guard<std::mutex> l(mu_);
      for (Request* r : requests) r->done = true;
    }
    done_.notify_all();
  }

  // Refuses new requests; the writer takes those queued, then Take is false.
  void Stop() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stopping_ = true;
    }
    work_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable work_, done_;
  std::deque<Request*> queue_;
  bool stopping_ = false;
};

}  // namespace backspan::observatory
