// Taking a store's tables (store/store_tables.h) into a PostgreSQL store,
// for `backspan store copy`: each batch commits with the position it
// reached, so an interrupted copy resumes where it stopped and copies
// nothing twice.
#pragma once

#include <memory>
#include <string>

#include "observatory/store/store_tables.h"
#include "util/status.h"

namespace backspan::observatory {

class PostgresStoreImport {
 public:
  // Connects to `uri`, creates or upgrades the schema. `source` names what
  // is copied (positions are kept per source).
  static Result<std::unique_ptr<PostgresStoreImport>> Open(const std::string& uri, const std::string& source);
  ~PostgresStoreImport();

  // How far an earlier copy of this source got in `item` ("chunks",
  // "jobs", "derived"): the last id copied (0: none).
  Result<int64_t> Position(const std::string& item);
  // Whether the database holds jobs no copy of this source brought.
  Result<bool> HoldsOtherData();
  // Each stores a batch and its position in one transaction.
  Status ImportChunks(const std::vector<StoredChunk>& chunks);
  Status ImportJobs(std::vector<JobRow> jobs);
  // Replaces the derived tables with `tables` (position 1 when done).
  Status ImportDerived(const DerivedTables& tables);
  Result<StoreCounts> Counts();

 private:
  struct Impl;
  explicit PostgresStoreImport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace backspan::observatory
