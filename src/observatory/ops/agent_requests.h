// "Back up now" for a policy an agent runs: the request waits here until
// the agent that owns the policy asks for its requests (a long poll, so the
// protected host needs no inbound port), and is handed over once. Kept in
// memory: a request the agent has not fetched when serve restarts is lost,
// and the operator asks again (docs/api.md, "Agents").
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace backspan {
class Env;
}

namespace backspan::observatory {

struct AgentRunRequest {
  std::string id, agent, policy, action = "backup", requested_by;
  std::string snapshot = "latest", target;  // restore: what, and the new directory below the restore root
  int64_t requested_ns = 0;
  std::string ToJson() const;
};

class AgentRequestQueue {
 public:
  explicit AgentRequestQueue(Env* env) : env_(env) {}
  ~AgentRequestQueue() { Close(); }
  // Wakes every waiting poll, and answers later ones at once (shutdown).
  void Close();

  // Queues `request` (agent, policy, action, who) and returns it with its id
  // and time. At most 100 wait per agent; the oldest is dropped beyond that.
  AgentRunRequest Add(AgentRunRequest request);
  // Removes and returns the requests waiting for `agent` whose policy
  // `visible` accepts (the caller's scope); waits up to `wait_ms` for one.
  std::vector<AgentRunRequest> Take(const std::string& agent, int64_t wait_ms,
                                    const std::function<bool(const std::string& policy)>& visible);

 private:
  std::vector<AgentRunRequest> TakeLocked(const std::string& agent, const std::function<bool(const std::string&)>& visible);

  Env* env_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::deque<AgentRunRequest>> queues_;
  bool closing_ = false;
};

}  // namespace backspan::observatory
