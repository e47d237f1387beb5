// The jobs table as SQLite sees it, shared by the store's writer, its
// queries, trends and aggregates: how a row reads back, tags looked up,
// and queries run with a Where's bindings (store/job_list_sql.h builds the
// SQL both stores share).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "observatory/access/scope.h"
#include "observatory/store/job_fields.h"
#include "observatory/store/job_list_sql.h"
#include "observatory/store/span_store.h"
#include "storage/sqlite.h"

namespace backspan::observatory {

// Binds `where`'s values to `st`.
void BindWhere(const Where& where, sql::Stmt& st);

// Runs `sql` with `where`'s bindings (if any) and calls fn(row) for each
// row until fn returns false.
template <typename Fn>
Status ForEachRow(sql::Db& db, const std::string& sql, const Where* where, Fn&& fn) {
  auto st = db.Prepare(sql);
  if (!st.ok()) return st.status();
  if (where) BindWhere(*where, *st);
  while (true) {
    auto row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row || !fn(*st)) return Status::Ok();
  }
}

// tags.id of KEY=VALUE, or 0 if no job ever had it.
Result<int64_t> FindTagId(sql::Db& db, const Tag& tag);
// FindTagId on `db`, as the shared SQL builders take it.
TagIdLookup TagLookupOn(sql::Db& db);
// AddScopeClause (job_list_sql.h) with tags looked up in `db`.
bool AddScopeClause(sql::Db& db, const Scope& scope, Where& where, Status* error);

// A row of JobColumns().
JobRow ReadJob(sql::Stmt& row);

}  // namespace backspan::observatory
