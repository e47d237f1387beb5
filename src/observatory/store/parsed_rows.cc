#include "observatory/store/parsed_rows.h"

#include <algorithm>

#include "observatory/store/agent_record.h"
#include "observatory/store/source_state.h"

namespace backspan::observatory {

void ParsedRows::AddSource(int64_t id, std::string_view key, std::string_view state, const Scope& scope,
                           std::vector<SourceState>* out) {
  std::lock_guard<std::mutex> l(mu_);
  auto& [text, parsed] = sources_[id];
  if (text != state) {
    text = state;
    parsed = SourceFromJson(text);
    parsed.id = id;
    parsed.key = key;
  }
  if (scope.Allows(parsed.resource_group, parsed.tags, false)) out->push_back(parsed);  // a source is never the audit log's
}

void ParsedRows::AddAgent(std::string_view name, std::string_view body, const Scope& scope, std::vector<AgentRecord>* out) {
  std::lock_guard<std::mutex> l(mu_);
  auto& [text, parsed] = agents_[std::string(name)];
  if (text != body) {
    auto agent = AgentRecordFromJson(std::string(body));
    if (!agent.ok()) return;
    text = body;
    parsed = std::move(*agent);
  }
  if (!AgentInScope(parsed, scope)) return;
  out->push_back(parsed);
  std::erase_if(out->back().policies, [&](const DeclaredPolicy& p) { return !scope.Allows(p.resource_group, p.tags, false); });
}

}  // namespace backspan::observatory
