// What the store derives from finished jobs: per-hour and per-day rollups
// (for trends),
// per-source state (for freshness and /metrics) and job counts.
//
// Updating them row by row with every commit cost a third of the writer's
// time, so the writer keeps them in memory and writes them at most once a
// second while requests keep arriving, and with the commit when none wait.
// The write records the newest job id it covers (`aggregates_through` in the
// meta table); after a crash, Recover applies the finished jobs stored after
// it again, so the aggregates never miss or double-count a job.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "observatory/store/rollup_delta.h"
#include "observatory/store/records.h"
#include "observatory/store/source_state.h"
#include "observatory/store/span_store.h"
#include "storage/sqlite.h"

namespace backspan::observatory {

class JobAggregates {
 public:
  // Counts finished job `job`, stored as jobs row `id`, in memory. Reads the
  // job's source from `db` the first time it is seen; `to_source` false
  // leaves the source alone.
  Status Add(sql::Db& db, const JobRecord& job, int64_t id, bool to_source = true);
  // Takes a counted job out of the rollups and counters again, before its
  // revision is added (sources keep it: their state is not a plain sum).
  Status Remove(const JobRecord& job, int64_t id);
  // Whether anything added is not yet written.
  bool dirty() const { return dirty_; }
  // Whether the next Flush must be in this transaction: a job older than the
  // written watermark was added (a running job that finished), which a
  // replay after a crash would not find.
  bool must_flush() const { return must_flush_; }
  // Writes what was added, and the watermark: the newest job added. Run it
  // inside the writer's transaction.
  Status Flush(sql::Db& db);
  // Loads the watermark and applies the finished jobs stored after it: at
  // startup, and after a rollback (call Forget first).
  Status Recover(sql::Db& db);
  // Drops everything not written and every cached source (after a rollback,
  // or when retention deleted sources).
  void Forget();
  // Sets the watermark to the newest remaining job, after retention deleted
  // jobs (their ids may be used again). Flush first.
  Status ResetWatermark(sql::Db& db);

 private:
  // The statements of one rollup table (hourly or daily).
  struct RollupTable {
    const char* select;
    const char* put;
  };
  static const RollupTable kHourly, kDaily;

  // Adds `sign` (1 or -1) times the job to the rollups and counters.
  void AddToRollups(const JobRecord& job, int sign);
  Status FlushRollups(sql::Db& db, const RollupTable& table, Rollups& rollups);
  Status FlushSources(sql::Db& db);
  Status WriteWatermark(sql::Db& db, int64_t through);

  AggregateDeltas deltas_;
  std::unordered_map<std::string, SourceState> sources_;  // by source key, as written plus what was added
  std::unordered_set<std::string> dirty_sources_;
  int64_t applied_through_ = 0;  // the newest job added
  int64_t watermark_ = 0;        // the newest job written
  bool dirty_ = false, must_flush_ = false;
};

}  // namespace backspan::observatory
