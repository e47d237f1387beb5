#include "observatory/store/postgres/store_import.h"

#include <map>
#include <set>

#include "observatory/store/postgres/pg_job_rows.h"
#include "observatory/store/postgres/postgres_span_store_impl.h"
#include "observatory/store/postgres/schema.h"

namespace backspan::observatory {

struct PostgresStoreImport::Impl {
  pg::Connection db;
  std::string source;
  std::map<Tag, int64_t> tag_ids;

  // Runs `body` and records `position` of `item`, in one transaction.
  template <typename Fn>
  Status InTransaction(const std::string& item, int64_t position, Fn body) {
    Status s = db.Exec("BEGIN");
    if (s.ok()) s = body();
    if (s.ok()) {
      auto up = db.Query("INSERT INTO store_copy_positions (source, item, position) VALUES ($1, $2, $3) "
                         "ON CONFLICT (source, item) DO UPDATE SET position = excluded.position",
                         {source, item, std::to_string(position)});
      s = up.status();
    }
    if (s.ok()) s = db.Exec("COMMIT");
    if (!s.ok()) {
      (void)db.Exec("ROLLBACK");
      tag_ids.clear();
    }
    return s;
  }
  Status EnsureDays(const std::vector<int64_t>& starts) {
    std::set<int64_t> days;
    for (int64_t ns : starts) days.insert(std::max<int64_t>(postgres::DayOf(ns), 0));
    return postgres::EnsureDays(db, days);
  }
};

PostgresStoreImport::PostgresStoreImport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PostgresStoreImport::~PostgresStoreImport() = default;

Result<std::unique_ptr<PostgresStoreImport>> PostgresStoreImport::Open(const std::string& uri, const std::string& source) {
  auto db = pg::Connection::Open(uri);
  if (!db.ok()) return db.status();
  if (Status s = postgres::Migrate(*db); !s.ok()) return s.WithContext("cannot create or upgrade the store's schema");
  auto impl = std::make_unique<Impl>();
  impl->db = std::move(*db);
  impl->source = source;
  return std::unique_ptr<PostgresStoreImport>(new PostgresStoreImport(std::move(impl)));
}

Result<int64_t> PostgresStoreImport::Position(const std::string& item) {
  auto rows = impl_->db.Query("SELECT position FROM store_copy_positions WHERE source = $1 AND item = $2",
                              {impl_->source, item});
  if (!rows.ok()) return rows.status();
  return rows->size() ? rows->Int(0, 0) : int64_t{0};
}

Result<bool> PostgresStoreImport::HoldsOtherData() {
  auto copies = impl_->db.QueryInt("SELECT count(*) FROM store_copy_positions WHERE source = $1", {impl_->source});
  if (!copies.ok()) return copies.status();
  if (*copies > 0) return false;  // an earlier run of this copy wrote what is there
  auto jobs = impl_->db.QueryInt("SELECT count(*) FROM (SELECT 1 FROM jobs LIMIT 1) j");
  if (!jobs.ok()) return jobs.status();
  return *jobs > 0;
}

Status PostgresStoreImport::ImportChunks(const std::vector<StoredChunk>& chunks) {
  if (chunks.empty()) return Status::Ok();
  std::vector<const TraceChunk*> rows;
  std::vector<int64_t> starts;
  for (const StoredChunk& c : chunks) {
    rows.push_back(&c.chunk);
    starts.push_back(c.chunk.start_ns);
  }
  RETURN_IF_ERROR(impl_->EnsureDays(starts));
  return impl_->InTransaction("chunks", chunks.back().id, [&] { return InsertChunks(impl_->db, rows); });
}

Status PostgresStoreImport::ImportJobs(std::vector<JobRow> jobs) {
  if (jobs.empty()) return Status::Ok();
  const int64_t position = jobs.back().id;
  std::vector<int64_t> starts;
  for (const JobRow& j : jobs) starts.push_back(j.start_ns);
  RETURN_IF_ERROR(impl_->EnsureDays(starts));
  return impl_->InTransaction("jobs", position, [&]() -> Status {
    std::vector<JobRow*> rows;
    for (JobRow& j : jobs) rows.push_back(&j);
    RETURN_IF_ERROR(InsertJobs(impl_->db, rows, 0));  // each keeps its own update time
    std::vector<const JobRow*> written;
    for (const JobRow& j : jobs)
      if (j.id) written.push_back(&j);
    return IndexTags(impl_->db, &impl_->tag_ids, written, {});
  });
}

Status PostgresStoreImport::ImportDerived(const DerivedTables& t) {
  return impl_->InTransaction("derived", 1, [&]() -> Status {
    pg::Connection& db = impl_->db;
    RETURN_IF_ERROR(db.Query(kLockAggregates).status());
    RETURN_IF_ERROR(db.Exec("DELETE FROM live_spans; DELETE FROM rollups; DELETE FROM rollups_daily; "
                            "DELETE FROM sources; DELETE FROM job_counts; DELETE FROM agents"));
    {
      std::vector<std::string> spans, traces, bodies;
      std::vector<int64_t> updated;
      for (const LiveSpan& l : t.live) {
        spans.push_back(Hex(trace::IdBytes(l.span_id)));
        traces.push_back(Hex(trace::IdBytes(l.trace_id)));
        bodies.push_back(Hex(l.body));
        updated.push_back(l.start_ns);
      }
      RETURN_IF_ERROR(db.Query("INSERT INTO live_spans (span_id, trace_id, updated_ns, body) SELECT decode(s, 'hex'), "
                               "decode(t, 'hex'), u, decode(b, 'hex') FROM unnest($1::text[], $2::text[], $3::bigint[], "
                               "$4::text[]) AS x(s, t, u, b)",
                               {pg::ArrayOf(spans), pg::ArrayOf(traces), pg::ArrayOf(updated), pg::ArrayOf(bodies)})
                          .status());
    }
    // Into emptied tables, adding is copying.
    Rollups hourly, daily;
    for (const StoredRollup& r : t.rollups) (r.daily ? daily : hourly)[r.key] = r.value;
    RETURN_IF_ERROR(AddToRollups(db, "rollups", "hour", hourly));
    RETURN_IF_ERROR(AddToRollups(db, "rollups_daily", "day", daily));
    AggregateDeltas counted;
    for (const JobCount& c : t.counts) counted.counts[{c.kind, c.status}] = c.count;
    RETURN_IF_ERROR(AddToJobCounts(db, counted));
    std::vector<std::string> keys, states;
    std::vector<int64_t> last;
    for (const StoredSource& s : t.sources) {
      keys.push_back(s.key);
      states.push_back(s.state);
      last.push_back(s.last_job_ns);
    }
    RETURN_IF_ERROR(db.Query("INSERT INTO sources (key, state, last_job_ns) SELECT * FROM unnest($1::text[], $2::text[], "
                             "$3::bigint[])",
                             {pg::ArrayOf(keys), pg::ArrayOf(states), pg::ArrayOf(last)})
                        .status());
    std::vector<std::string> names, bodies;
    std::vector<int64_t> sent;
    for (const StoredAgent& a : t.agents) {
      names.push_back(a.name);
      bodies.push_back(a.body);
      sent.push_back(a.sent_ns);
    }
    return db.Query("INSERT INTO agents (name, sent_ns, body) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[])",
                    {pg::ArrayOf(names), pg::ArrayOf(sent), pg::ArrayOf(bodies)})
        .status();
  });
}

Result<StoreCounts> PostgresStoreImport::Counts() {
  auto rows = impl_->db.Query("SELECT (SELECT count(*) FROM jobs), (SELECT count(*) FROM span_chunks), "
                              "(SELECT coalesce(sum(span_count), 0) FROM span_chunks), (SELECT count(*) FROM sources), "
                              "(SELECT coalesce(sum(count), 0) FROM job_counts)");
  if (!rows.ok()) return rows.status();
  return StoreCounts{rows->Int(0, 0), rows->Int(0, 1), rows->Int(0, 2), rows->Int(0, 3), rows->Int(0, 4)};
}

}  // namespace backspan::observatory
