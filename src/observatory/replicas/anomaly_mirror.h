// Replicas sharing a store judge jobs once (docs/insight.md, "Replicas"):
// the leader's insight judges, and its anomalies reach the others through
// one shared document per source ("anomalies/<source key>"), which they
// adopt. So every replica answers the anomaly API, the trace pages and
// /metrics with the anomalies one process found, at the cost of one
// process's judging.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "observatory/insight/insight_engine.h"
#include "observatory/store/shared_state.h"
#include "util/periodic_thread.h"

namespace backspan::observatory {

class AnomalyMirror {
 public:
  // Hooks into `engine` (before its Start): what it finds while it judges
  // is put for the others; while it does not, what the judging replica put
  // is adopted every second. Both outlive the mirror.
  AnomalyMirror(insight::InsightEngine* engine, SharedState* shared);
  ~AnomalyMirror();  // puts what is still held, then stops

  // Sources whose anomalies are held for the store (unreachable so far).
  size_t held() const;

 private:
  void Hold(const std::string& source_key, const std::vector<insight::AnomalyRecord>& records);
  // One round: held documents to the store; if not judging, what changed to the engine.
  void Sync();
  void Put();
  void Adopt();
  void Report(const Status& s);

  insight::InsightEngine* engine_;
  SharedState* shared_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> held_;  // source key: its encoded anomalies
  DocumentPosition read_;                    // the sync thread's: how far the documents were read
  std::map<std::string, int64_t> adopted_;   // the sync thread's: each document's version adopted
  std::string last_problem_;                 // the sync thread's
  std::optional<PeriodicThread> thread_;     // last: stops first (reset in the destructor)
};

}  // namespace backspan::observatory
