// Reading a SQLite store's tables out as rows (store/store_tables.h), for
// `backspan store copy`. Read-only: a server may keep running on the
// store, and the copy is then of the moment each batch is read.
#pragma once

#include <memory>
#include <string>

#include "observatory/store/store_tables.h"
#include "util/status.h"

namespace backspan::observatory {

class SqliteStoreExport {
 public:
  // Opens DIR/observatory.db; NotFound if there is none.
  static Result<std::unique_ptr<SqliteStoreExport>> Open(const std::string& dir);
  ~SqliteStoreExport();

  // Up to `limit` span chunks (jobs) with ids above `after`, by id.
  Result<std::vector<StoredChunk>> Chunks(int64_t after, int limit);
  Result<std::vector<JobRow>> Jobs(int64_t after, int limit);
  Result<DerivedTables> Derived();
  Result<StoreCounts> Counts();

 private:
  struct Impl;
  explicit SqliteStoreExport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace backspan::observatory
