// Trends from SQLite: the shared builder (store/trend_builder.h) writes the
// SQL and sums the rows.
#include "observatory/store/sqlite/sqlite_span_store_impl.h"
#include "observatory/store/trend_builder.h"

namespace backspan::observatory {

Result<Trend> SqliteSpanStore::GetTrend(const TrendQuery& q, const Scope& scope) {
  auto trend = TrendBuilder::Start(q);
  if (!trend.ok()) return trend.status();
  Impl::Reader db(impl_.get());
  if (!db.status().ok()) return db.status();
  auto read = trend->Sql(scope, TagLookupOn(db.db()), SqlDialect::kSqlite);
  if (!read.ok()) return read.status();
  if (read->sql.empty()) return Trend{};
  Status scan = ForEachRow(db.db(), read->sql, &read->where, [&](sql::Stmt& row) {
    if (read->from_rollups)
      trend->AddRollup({.start = row.Int(0), .group = row.Text(1), .jobs = row.Int(2), .ok = row.Int(3),
                        .partial = row.Int(4), .failed = row.Int(5), .bytes_added = row.Int(7),
                        .bytes_total = row.Int(8), .duration_sum = row.Double(6), .hist = row.Blob(9)});
    else
      trend->AddJob(row.Int(0), row.Int(1), row.Text(2), row.Int(3), row.Int(4), row.Text(5));
    return true;
  });
  if (!scan.ok()) return scan;
  return trend->Finish();
}

}  // namespace backspan::observatory
