#include "observatory/forward/forwarding_store.h"

#include <utility>

#include "observatory/store/trace_chunk.h"

namespace backspan::observatory {

Result<WriteOutcome> ForwardingStore::Write(IngestBatch batch, const Scope& writer) {
  std::vector<TraceChunk> chunks = batch.chunks;  // the store takes the batch
  auto outcome = inner()->Write(std::move(batch), writer);
  if (!outcome.ok() || chunks.empty()) return outcome;
  if (!outcome->rejected_spans.empty()) {
    std::vector<TraceChunk> kept;
    for (TraceChunk& c : chunks)
      if (DropSpans(&c, outcome->rejected_spans)) kept.push_back(std::move(c));
    chunks = std::move(kept);
  }
  forwarding_->Forward(std::move(chunks));
  return outcome;
}

}  // namespace backspan::observatory
