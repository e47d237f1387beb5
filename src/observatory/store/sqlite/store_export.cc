#include "observatory/store/sqlite/store_export.h"

#include <sys/stat.h>

#include "observatory/store/sqlite/job_rows.h"
#include "storage/sqlite.h"

namespace backspan::observatory {

struct SqliteStoreExport::Impl {
  sql::Db db;
};

SqliteStoreExport::SqliteStoreExport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteStoreExport::~SqliteStoreExport() = default;

Result<std::unique_ptr<SqliteStoreExport>> SqliteStoreExport::Open(const std::string& dir) {
  const std::string path = dir + "/observatory.db";
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return Status::NotFound("no observatory store in " + dir + " (no observatory.db)");
  auto db = sql::Db::Open(path, false, false);
  if (!db.ok()) return db.status();
  auto impl = std::make_unique<Impl>();
  impl->db = std::move(*db);
  return std::unique_ptr<SqliteStoreExport>(new SqliteStoreExport(std::move(impl)));
}

Result<std::vector<StoredChunk>> SqliteStoreExport::Chunks(int64_t after, int limit) {
  std::vector<StoredChunk> out;
  Where where;
  where.Add("id > " + where.Param(after));
  Status s = ForEachRow(impl_->db,
                        "SELECT id, trace_id, start_ns, span_count, raw_length, body FROM span_chunks" + where.Sql() +
                            " ORDER BY id LIMIT " + std::to_string(limit),
                        &where, [&](sql::Stmt& row) {
                          StoredChunk c;
                          c.id = row.Int(0);
                          c.chunk.trace_id = trace::IdFromBytes<16>(row.Blob(1));
                          c.chunk.start_ns = row.Int(2);
                          c.chunk.span_count = static_cast<int32_t>(row.Int(3));
                          c.chunk.raw_length = static_cast<uint64_t>(row.Int(4));
                          c.chunk.body = row.Blob(5);
                          out.push_back(std::move(c));
                          return true;
                        });
  if (!s.ok()) return s;
  return out;
}

Result<std::vector<JobRow>> SqliteStoreExport::Jobs(int64_t after, int limit) {
  std::vector<JobRow> out;
  Where where;
  where.Add("id > " + where.Param(after));
  Status s = ForEachRow(impl_->db, "SELECT " + JobColumns() + " FROM jobs" + where.Sql() + " ORDER BY id LIMIT " +
                                       std::to_string(limit),
                        &where, [&](sql::Stmt& row) {
                          out.push_back(ReadJob(row));
                          return true;
                        });
  if (!s.ok()) return s;
  return out;
}

Result<DerivedTables> SqliteStoreExport::Derived() {
  DerivedTables t;
  sql::Db& db = impl_->db;
  Status s = ForEachRow(db, "SELECT span_id, trace_id, updated_ns, body FROM live_spans", nullptr, [&](sql::Stmt& row) {
    LiveSpan l;
    l.span_id = trace::IdFromBytes<8>(row.Blob(0));
    l.trace_id = trace::IdFromBytes<16>(row.Blob(1));
    l.start_ns = row.Int(2);  // carried as the snapshot's update time
    l.body = row.Blob(3);
    t.live.push_back(std::move(l));
    return true;
  });
  for (const auto& [table, period, daily] : {std::tuple{"rollups", "hour", false}, std::tuple{"rollups_daily", "day", true}}) {
    if (!s.ok()) break;
    s = ForEachRow(db,
                   std::string("SELECT tag_key, ") + period + ", kind, resource_group, tag_value, jobs, ok, partial, "
                   "failed, duration_sum, bytes_added, bytes_total, hist FROM " + table,
                   nullptr, [&, daily = daily](sql::Stmt& row) {
                     StoredRollup r;
                     r.daily = daily;
                     r.key = RollupKey{row.Text(0), row.Text(2), row.Text(3), row.Text(4), row.Int(1)};
                     r.value.jobs = row.Int(5);
                     r.value.ok = row.Int(6);
                     r.value.partial = row.Int(7);
                     r.value.failed = row.Int(8);
                     r.value.duration_sum = row.Double(9);
                     r.value.bytes_added = row.Int(10);
                     r.value.bytes_total = row.Int(11);
                     r.value.durations.MergeEncoded(row.Blob(12));
                     t.rollups.push_back(std::move(r));
                     return true;
                   });
  }
  if (s.ok())
    s = ForEachRow(db, "SELECT key, state, last_job_ns FROM sources ORDER BY id", nullptr, [&](sql::Stmt& row) {
      t.sources.push_back({row.Text(0), row.Text(1), row.Int(2)});
      return true;
    });
  if (s.ok())
    s = ForEachRow(db, "SELECT kind, status, count FROM job_counts", nullptr, [&](sql::Stmt& row) {
      t.counts.push_back({row.Text(0), row.Text(1), row.Int(2)});
      return true;
    });
  if (s.ok())
    s = ForEachRow(db, "SELECT name, sent_ns, body FROM agents", nullptr, [&](sql::Stmt& row) {
      t.agents.push_back({row.Text(0), row.Text(2), row.Int(1)});
      return true;
    });
  if (!s.ok()) return s;
  return t;
}

Result<StoreCounts> SqliteStoreExport::Counts() {
  StoreCounts c;
  Status s = ForEachRow(impl_->db,
                        "SELECT (SELECT count(*) FROM jobs), (SELECT count(*) FROM span_chunks), "
                        "(SELECT coalesce(sum(span_count), 0) FROM span_chunks), (SELECT count(*) FROM sources), "
                        "(SELECT coalesce(sum(count), 0) FROM job_counts)",
                        nullptr, [&](sql::Stmt& row) {
                          c = {row.Int(0), row.Int(1), row.Int(2), row.Int(3), row.Int(4)};
                          return false;
                        });
  if (!s.ok()) return s;
  return c;
}

}  // namespace backspan::observatory
