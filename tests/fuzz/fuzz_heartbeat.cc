// An agent's heartbeat (POST /api/v1/agents/heartbeat), from any caller: what
// parses must survive the store's round trip unchanged.
#include "fuzz.h"
#include "observatory/access/scope.h"
#include "observatory/ingest/agent_heartbeat.h"
#include "observatory/store/agent_record.h"

using namespace backspan;
using namespace backspan::observatory;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = ParseHeartbeat(fuzz::Text(data, size), Scope::Of({"rg-a"}, {}), 1796601600'000'000'000);
  if (!parsed.ok()) return 0;
  const std::string stored = AgentRecordToJson(parsed->agent, Scope::All());
  auto back = AgentRecordFromJson(stored);
  BACKSPAN_FUZZ_CHECK(back.ok());
  BACKSPAN_FUZZ_CHECK(AgentRecordToJson(*back, Scope::All()) == stored);
  return 0;
}
