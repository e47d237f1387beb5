// What the agent remembers across restarts: each policy's PolicyState, in
// one JSON file in its state directory, replaced whole on every change
// (docs/agent.md, "State").
#pragma once

#include <map>
#include <string>

#include "agent/policy_timeline.h"
#include "util/status.h"

namespace backspan {
class Env;
}

namespace backspan::agent {

using AgentState = std::map<std::string, PolicyState>;  // by policy name

// The saved state; empty if there is none yet. Corruption if the file is
// not what SaveAgentState writes.
Result<AgentState> LoadAgentState(Env* env, const std::string& path);
// Writes `state` crash-safely.
Status SaveAgentState(Env* env, const std::string& path, const AgentState& state);

}  // namespace backspan::agent
