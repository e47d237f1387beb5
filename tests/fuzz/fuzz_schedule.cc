// Cron expressions and schedules, as agents' files and heartbeats carry
// them: "EXPRESSION\n--\nZONE". Whatever parses must give strictly
// increasing next runs, each a minute the expression matches.
#include <string>

#include "fuzz.h"
#include "schedule/schedule.h"

using namespace backspan;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [expr, zone] = fuzz::Split(fuzz::Text(data, size));
  if (zone.size() > 64) return 0;
  auto s = schedule::Schedule::Parse(expr, std::string(zone));
  if (!s.ok()) return 0;
  int64_t t = 1796601600;  // 2026-12-07
  for (int i = 0; i < 4; ++i) {
    auto next = s->Next(t);
    if (!next) break;
    BACKSPAN_FUZZ_CHECK(*next > t);
    t = *next;
  }
  (void)s->LastAtOrBefore(t);
  return 0;
}
