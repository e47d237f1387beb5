// `serve --forward`: every accepted span, sent on to other OTLP/HTTP
// backends after redaction. Each destination has its own bounded queue and
// thread, so a slow or dead one never slows ingest or the others: when its
// queue is full, new spans for it are dropped and counted.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "observatory/forward/destination.h"
#include "observatory/store/records.h"
#include "trace/redactor.h"

namespace backspan {
class Env;
}

namespace backspan::observatory {

// What happened to a destination's spans since the server started.
struct ForwardStats {
  std::string destination;  // ForwardDestination::label
  uint64_t sent = 0;        // accepted by the destination
  uint64_t rejected = 0;    // refused by it in a partial success
  uint64_t failed = 0;      // given up on after retries (or refused outright)
  uint64_t dropped = 0;     // not queued: the queue was full
  uint64_t retries = 0;
  uint64_t queued = 0, queued_bytes = 0;  // waiting now
};

class Forwarding {
 public:
  // Starts a thread per destination. `version` names backspan in User-Agent.
  Forwarding(std::vector<ForwardDestination> destinations, trace::RedactionConfig redaction, std::string version,
             Env* env);
  // Sends what is queued for a few seconds at most, then stops.
  ~Forwarding();

  // Queues the finished spans of `chunks` for every destination; never blocks.
  void Forward(std::vector<TraceChunk> chunks) noexcept;
  // Queues spans backspan made itself (the observatory's own events); never blocks.
  void Forward(const trace::Resource& resource, std::vector<trace::SpanData> spans) noexcept;

  std::vector<ForwardStats> stats() const;

 private:
  class Destination;
  trace::Redactor redactor_;
  std::string version_;
  std::vector<std::unique_ptr<Destination>> destinations_;
};

}  // namespace backspan::observatory
