// Sources and agents' heartbeats are stored as JSON text; reading 10,000
// sources for every /metrics scrape would parse them all each time. Both
// stores keep what they last parsed, by row, with the text it came from, so
// a read parses only rows that changed since. Safe from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "observatory/access/scope.h"
#include "observatory/store/span_store.h"

namespace backspan::observatory {

class ParsedRows {
 public:
  // Adds sources row (id, key, state) to `out` if `scope` allows it.
  void AddSource(int64_t id, std::string_view key, std::string_view state, const Scope& scope,
                 std::vector<SourceState>* out);
  // Adds agents row `body` (AgentRecordToJson) to `out` as `scope` sees it:
  // only if it reaches the agent, with only the policies it reaches. A
  // damaged row is skipped.
  void AddAgent(std::string_view name, std::string_view body, const Scope& scope, std::vector<AgentRecord>* out);

 private:
  std::mutex mu_;
  std::unordered_map<int64_t, std::pair<std::string, SourceState>> sources_;
  std::unordered_map<std::string, std::pair<std::string, AgentRecord>> agents_;
};

}  // namespace backspan::observatory
