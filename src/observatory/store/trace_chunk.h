// The stored form of a trace's spans (TraceChunk, records.h): a serialized
// OTLP ResourceSpans, compressed. The decoder makes chunks; the store's
// write rule looks inside stored ones and cuts spans out of new ones.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "observatory/access/scope.h"
#include "observatory/store/records.h"
#include "observatory/store/span_store.h"
#include "util/status.h"

namespace backspan::observatory {

// Sets chunk's body to `raw` (a serialized ResourceSpans), compressed when
// that makes it smaller (raw_length is then the uncompressed size, else 0).
void CompressChunk(const std::string& raw, TraceChunk* chunk);

// The chunk's serialized ResourceSpans, uncompressed.
Result<std::string> ChunkResourceSpans(const TraceChunk& chunk);

// The ids of the spans in `resource_spans` (a stored chunk's or live span's
// serialized ResourceSpans, uncompressed) that `scope` does not allow.
// Corruption if it does not parse.
Result<std::vector<trace::SpanId>> SpansOutsideScope(std::string_view resource_spans, const Scope& scope);

// `resource_spans` (serialized, uncompressed) with only the spans `scope`
// allows: "" if it allows none. The ids of the spans left out are added to
// `hidden`. Corruption if it does not parse.
Result<std::string> SpansInScope(std::string_view resource_spans, const Scope& scope, std::set<trace::SpanId>* hidden);

// Removes the spans with ids in `drop` from `chunk`, re-encoding it; false
// if no span is left (the chunk is then to be dropped whole).
bool DropSpans(TraceChunk* chunk, const std::vector<trace::SpanId>& drop);

// A stored trace as a scope may see it, assembled from the rows a store
// reads: chunks (in the order stored) and in-progress snapshots.
class TraceAssembler {
 public:
  TraceAssembler(const trace::TraceId& id, const Scope& scope) : id_(id), scope_(scope) {}
  // A stored chunk's body (raw_length 0: not compressed).
  Status AddChunk(std::string_view body, uint64_t raw_length);
  Status AddLive(std::string_view body);
  // NotFound if nothing of the trace was added.
  Result<StoredTrace> Finish();

 private:
  Status Keep(std::string_view spans, std::vector<std::string>* into);
  trace::TraceId id_;
  const Scope& scope_;
  StoredTrace out_;
  std::set<trace::SpanId> hidden_;
  bool stored_ = false;
};

}  // namespace backspan::observatory
