#include "agent/agent_state.h"

#include <nlohmann/json.hpp>

#include "env/env.h"

namespace backspan::agent {
namespace {

using json = nlohmann::json;

json ToJson(const PolicyState& s) {
  return {{"last_tick", s.last_tick},           {"running_tick", s.running_tick},
          {"running_task", s.running_task},     {"attempt", s.attempt},
          {"retry_at", s.retry_at},             {"window_reported", s.window_reported},
          {"last_success", s.last_success},     {"last_end", s.last_end},
          {"last_outcome", s.last_outcome},     {"last_forget_tick", s.last_forget_tick},
          {"last_check_tick", s.last_check_tick}};
}

PolicyState FromJson(const json& j) {
  PolicyState s;
  s.last_tick = j.value("last_tick", int64_t{0});
  s.running_tick = j.value("running_tick", int64_t{0});
  s.running_task = j.value("running_task", std::string());
  s.attempt = j.value("attempt", 0);
  s.retry_at = j.value("retry_at", int64_t{0});
  s.window_reported = j.value("window_reported", false);
  s.last_success = j.value("last_success", int64_t{0});
  s.last_end = j.value("last_end", int64_t{0});
  s.last_outcome = j.value("last_outcome", std::string());
  s.last_forget_tick = j.value("last_forget_tick", int64_t{0});
  s.last_check_tick = j.value("last_check_tick", int64_t{0});
  return s;
}

}  // namespace

Result<AgentState> LoadAgentState(Env* env, const std::string& path) {
  if (!env->Exists(path)) return AgentState{};
  ASSIGN_OR_RETURN(Bytes bytes, ReadWholeFile(env, path));
  AgentState state;
  try {
    const json j = json::parse(AsText(bytes));
    for (const auto& [name, value] : j.at("policies").items()) state[name] = FromJson(value);
  } catch (const json::exception& e) {
    return Status::Corruption("agent state " + path + " is damaged (" + e.what() + "); move it away to start afresh");
  }
  return state;
}

Status SaveAgentState(Env* env, const std::string& path, const AgentState& state) {
  json policies = json::object();
  for (const auto& [name, s] : state) policies[name] = ToJson(s);
  const std::string text = json{{"version", 1}, {"policies", policies}}.dump(1) + "\n";
  return WriteFileAtomic(env, path, AsBytes(text));
}

}  // namespace backspan::agent
