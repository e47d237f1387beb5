// The store as `serve --forward` writes through it: every write goes to the
// store first, and what the store accepted (finished spans; in-progress
// snapshots are backspan's own extension and stay here) is handed to the
// forwarder, so a span the write rule refused is never forwarded.
#pragma once

#include "observatory/forward/forwarder.h"
#include "observatory/store/store_decorator.h"

namespace backspan::observatory {

class ForwardingStore final : public StoreDecorator {
 public:
  // Neither is owned; both outlive this.
  ForwardingStore(SpanStore* store, Forwarding* forwarding) : StoreDecorator(store), forwarding_(forwarding) {}

  Result<WriteOutcome> Write(IngestBatch batch, const Scope& writer) override;

 private:
  Forwarding* forwarding_;
};

}  // namespace backspan::observatory
