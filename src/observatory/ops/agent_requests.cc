#include "observatory/ops/agent_requests.h"

#include <nlohmann/json.hpp>

#include <chrono>

#include "crypto/crypto.h"
#include "env/env.h"
#include "util/hex.h"
#include "util/time_format.h"

namespace backspan::observatory {

constexpr size_t kMaxWaiting = 100;

std::string AgentRunRequest::ToJson() const {
  return nlohmann::json{{"id", id},
                        {"agent", agent},
                        {"policy", policy},
                        {"action", action},
                        {"requested_by", requested_by},
                        {"snapshot", snapshot},
                        {"target", target},
                        {"requested", FormatRfc3339(requested_ns)}}
      .dump();
}

void AgentRequestQueue::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closing_ = true;
  cv_.notify_all();
}

AgentRunRequest AgentRequestQueue::Add(AgentRunRequest r) {
  uint8_t b[8];
  crypto::RandomBytes(b, sizeof b);
  r.id = HexEncode(ByteView(b, sizeof b));
  r.requested_ns = env_->NowUnixNanos();
  std::lock_guard<std::mutex> lock(mu_);
  auto& q = queues_[r.agent];
  q.push_back(r);
  if (q.size() > kMaxWaiting) q.pop_front();
  cv_.notify_all();
  return r;
}

std::vector<AgentRunRequest> AgentRequestQueue::TakeLocked(const std::string& agent,
                                                           const std::function<bool(const std::string&)>& visible) {
  std::vector<AgentRunRequest> out;
  auto it = queues_.find(agent);
  if (it == queues_.end()) return out;
  auto& q = it->second;
  for (auto r = q.begin(); r != q.end();) {
    if (visible(r->policy)) {
      out.push_back(std::move(*r));
      r = q.erase(r);
    } else {
      ++r;
    }
  }
  return out;
}

std::vector<AgentRunRequest> AgentRequestQueue::Take(const std::string& agent, int64_t wait_ms,
                                                     const std::function<bool(const std::string&)>& visible) {
  std::unique_lock<std::mutex> lock(mu_);
  std::vector<AgentRunRequest> out;
  cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] {
    out = TakeLocked(agent, visible);
    return closing_ || !out.empty();
  });
  return out;
}

}  // namespace backspan::observatory
