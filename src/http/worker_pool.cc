#include "http/worker_pool.h"

#include <malloc.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>

namespace backspan::http {
namespace {

std::string ErrorJson(const std::string& message) {
  std::string out = "{\"error\":\"";
  for (char c : message) {
    if (c == '"' || c == '\\') out += '\\', out += c;
    else if (static_cast<unsigned char>(c) < 0x20) out += ' ';
    else out += c;
  }
  return out + "\"}";
}

// Returns the allocator's free pages to the system (glibc keeps them, in
// every thread's arena, for reuse).
void ReturnFreeMemory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

}  // namespace

Response ErrorResponse(int status, const std::string& message) {
  Response r;
  r.Set(status, ErrorJson(message), "application/json");
  if (status == 503) r.AddHeader("Retry-After", "1");
  return r;
}

WorkerPool::WorkerPool(const Router* router, size_t max_queued)
    : router_(router), max_queued_(max_queued), wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

WorkerPool::~WorkerPool() {
  Stop();
  close(wake_fd_);
}

void WorkerPool::Start(int threads) {
  for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { Work(); });
}

bool WorkerPool::Submit(Job job, size_t* waiting) {
  std::lock_guard<std::mutex> l(mu_);
  *waiting = jobs_.size();
  if (jobs_.size() >= max_queued_) return false;
  jobs_.push_back(std::move(job));
  cv_.notify_one();
  return true;
}

std::vector<WorkerPool::Done> WorkerPool::TakeDone() {
  std::vector<Done> out;
  std::lock_guard<std::mutex> l(mu_);
  out.swap(done_);
  return out;
}

void WorkerPool::Wake() {
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
}

void WorkerPool::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void WorkerPool::Work() {
  while (true) {
    Job job;
    {
      std::unique_lock<std::mutex> l(mu_);
      if (!cv_.wait_for(l, std::chrono::seconds(1), [&] { return stopping_ || !jobs_.empty(); })) {
        // Idle for a second after work: give the memory handlers freed
        // back to the system, or a burst would keep its peak for good.
        if (trim_due_) {
          trim_due_ = false;
          l.unlock();
          ReturnFreeMemory();
        }
        continue;
      }
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
      trim_due_ = true;
    }
    Response res;
    try {
      router_->Handle(job.req, res);
    } catch (const std::exception& e) {
      res = ErrorResponse(500, std::string("internal error: ") + e.what());
    } catch (...) {
      res = ErrorResponse(500, "internal error");
    }
    Done d{job.conn, Serialize(res, !job.keep_alive, job.req.method == "HEAD"), !job.keep_alive};
    job.req = Request();  // the body's memory goes now, not at the next request
    {
      std::lock_guard<std::mutex> l(mu_);
      done_.push_back(std::move(d));
    }
    Wake();
  }
}

}  // namespace backspan::http
