// An agent's heartbeat as the store keeps it and the API shows it: one JSON
// document per agent (docs/api.md, "Agents").
#pragma once

#include <string>

#include "observatory/access/scope.h"
#include "observatory/store/records.h"
#include "util/status.h"

namespace backspan::observatory {

// The record as JSON: the stored form, and the API's (policies outside
// `scope` left out).
std::string AgentRecordToJson(const AgentRecord& agent, const Scope& scope);
// What AgentRecordToJson wrote; Corruption if it is not.
Result<AgentRecord> AgentRecordFromJson(const std::string& text);
// Whether `scope` reaches the agent: everything, or one of its policies.
bool AgentInScope(const AgentRecord& agent, const Scope& scope);

}  // namespace backspan::observatory
