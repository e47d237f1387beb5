#include "observatory/insight/phase_reader.h"

#include <set>

#include "opentelemetry/proto/trace/v1/trace.pb.h"

namespace backspan::observatory::insight {

std::vector<std::pair<std::string, double>> ReadPhases(SpanStore* store, const trace::TraceId& trace_id,
                                                       const trace::SpanId& job_span_id) {
  namespace tracepb = opentelemetry::proto::trace::v1;
  std::vector<std::pair<std::string, double>> out;
  auto stored = store->GetTrace(trace_id, Scope::All());
  if (!stored.ok()) return out;
  const std::string parent(reinterpret_cast<const char*>(job_span_id.data()), job_span_id.size());
  std::set<std::string> seen;
  // Newest first, so a span stored twice counts once, as last stored.
  for (auto it = stored->finished.rbegin(); it != stored->finished.rend(); ++it) {
    tracepb::ResourceSpans rs;
    if (!rs.ParseFromString(*it)) continue;
    for (const auto& ss : rs.scope_spans())
      for (const auto& s : ss.spans()) {
        if (s.parent_span_id() != parent || !seen.insert(s.span_id()).second) continue;
        if (s.end_time_unix_nano() < s.start_time_unix_nano() || s.name().empty()) continue;
        out.emplace_back(s.name(), static_cast<double>(s.end_time_unix_nano() - s.start_time_unix_nano()) / 1e9);
      }
  }
  return out;
}

}  // namespace backspan::observatory::insight
