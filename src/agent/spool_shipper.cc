#include "agent/spool_shipper.h"

#include <chrono>

namespace backspan::agent {
namespace {

// Refusals a retry will not change; anything else is retried.
bool RefusedForGood(long status) {
  return status >= 400 && status < 500 && status != 401 && status != 403 && status != 408 && status != 429;
}

}  // namespace

SpoolShipper::SpoolShipper(trace::Spool* spool, ObservatoryClient* client, std::function<void(const std::string&)> log)
    : spool_(spool), client_(client), log_(std::move(log)) {}

SpoolShipper::~SpoolShipper() { Stop(); }

void SpoolShipper::Start() { thread_ = std::thread([this] { Loop(); }); }

void SpoolShipper::Notify() {
  std::lock_guard<std::mutex> lock(mu_);
  pending_ = true;
  cv_.notify_all();
}

void SpoolShipper::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

bool SpoolShipper::DeliverAll() {
  auto entries = spool_->List();
  if (!entries.ok()) return false;
  for (const auto& entry : *entries) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return false;
    }
    auto body = spool_->Read(entry);
    if (!body.ok()) continue;  // gone meanwhile
    const bool traces = entry.kind == trace::kSpoolTraces;
    const std::string path = traces ? "/v1/traces" : "/api/v1/agents/heartbeat";
    auto resp = client_->Send("POST", path, traces ? "application/x-protobuf" : "application/json",
                              std::string(AsText(*body)));
    std::string problem;
    if (!resp.ok()) problem = resp.status().message();
    else if (resp->status / 100 == 2) {
      (void)spool_->Remove(entry);
      ++delivered_;
      last_problem_.clear();
      continue;
    } else if (RefusedForGood(resp->status)) {
      log_("the observatory refused spool entry " + entry.name + " (" + std::to_string(resp->status) +
           "): " + resp->body.substr(0, 300));
      (void)spool_->Remove(entry);
      ++refused_;
      continue;
    } else {
      problem = "the observatory answered " + std::to_string(resp->status) + ": " + resp->body.substr(0, 200);
    }
    if (problem != last_problem_) log_("cannot deliver to the observatory, keeping the spool: " + problem);
    last_problem_ = problem;
    return false;
  }
  return true;
}

void SpoolShipper::Loop() {
  int64_t backoff_ms = 1000;
  for (;;) {
    const bool all = DeliverAll();
    backoff_ms = all ? 1000 : std::min<int64_t>(backoff_ms * 2, 60'000);
    std::unique_lock<std::mutex> lock(mu_);
    // Jobs write into the spool without telling: look again every second
    // when delivering works, after the backoff when it does not.
    cv_.wait_for(lock, std::chrono::milliseconds(all ? 1000 : backoff_ms), [&] { return stop_ || (all && pending_); });
    pending_ = false;
    if (stop_) return;
  }
}

}  // namespace backspan::agent
