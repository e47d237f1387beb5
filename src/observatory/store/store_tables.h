// A store's tables as rows, for moving a store from one kind to another
// (`backspan store copy`): the SQLite store reads them out
// (sqlite/store_export.h), the PostgreSQL store takes them in
// (postgres/store_import.h). Jobs and span chunks move in batches by id;
// the derived tables (which keep counts of jobs retention already deleted)
// move whole, as they are, never recomputed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "observatory/store/records.h"
#include "observatory/store/rollup_delta.h"
#include "observatory/store/span_store.h"

namespace backspan::observatory {

struct StoredChunk {
  int64_t id = 0;  // in the source store: the copy's position
  TraceChunk chunk;
};

struct StoredRollup {
  bool daily = false;
  RollupKey key;
  RollupDelta value;
};

struct StoredSource {
  std::string key, state;  // state: SourceToJson
  int64_t last_job_ns = 0;
};

struct StoredAgent {
  std::string name, body;  // body: AgentRecordToJson
  int64_t sent_ns = 0;
};

// Everything but jobs and span chunks.
struct DerivedTables {
  std::vector<LiveSpan> live;
  std::vector<StoredRollup> rollups;
  std::vector<StoredSource> sources;
  std::vector<JobCount> counts;
  std::vector<StoredAgent> agents;
};

// What a copy compares to verify itself.
struct StoreCounts {
  int64_t jobs = 0, chunks = 0, spans = 0, sources = 0, counted_jobs = 0;
  bool operator==(const StoreCounts&) const = default;
};

}  // namespace backspan::observatory
