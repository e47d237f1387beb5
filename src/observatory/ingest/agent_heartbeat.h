// An agent's heartbeat (POST /api/v1/agents/heartbeat, docs/api.md,
// "Agents"): who it is, its spool, and the policies it runs with their
// schedules, which the observatory then expects their sources on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "observatory/access/scope.h"
#include "observatory/store/records.h"
#include "util/status.h"

namespace backspan::observatory {

struct ParsedHeartbeat {
  AgentRecord agent;
  std::vector<std::string> rejected;  // one line per policy left out, naming it
};

// Parses a heartbeat received at `now_ns` from a caller who may write in
// `writer`. InvalidArgument if the body is not a heartbeat; a policy with a
// bad schedule or outside `writer` is listed as rejected and left out.
Result<ParsedHeartbeat> ParseHeartbeat(std::string_view body, const Scope& writer, int64_t now_ns);

}  // namespace backspan::observatory
