// The PostgreSQL store's read side: the SQL the stores share
// (store/job_list_sql.h, store/trend_builder.h) run on a pooled
// connection, and the queries that differ. Every query that returns jobs or
// sources applies the caller's Scope in SQL or before returning.
#include "observatory/store/job_fields.h"
#include "observatory/store/job_list_sql.h"
#include "observatory/store/postgres/postgres_span_store_impl.h"
#include "observatory/store/trace_chunk.h"
#include "observatory/store/trend_builder.h"
#include "trace/semconv.h"

namespace backspan::observatory {
namespace {

TagIdLookup TagLookupOn(pg::Connection& db) {
  return [&db](const Tag& tag) -> Result<int64_t> {
    auto rows = db.Query("SELECT id FROM tags WHERE key = $1 AND value = $2", {tag.first, tag.second});
    if (!rows.ok()) return rows.status();
    return rows->size() ? rows->Int(0, 0) : int64_t{0};
  };
}

}  // namespace

JobRow ReadJob(const pg::Rows& rows, int r) {
  JobRow j;
  j.id = rows.Int(r, 0);
  j.trace_id = trace::IdFromBytes<16>(rows.Bytes(r, 1));
  j.span_id = trace::IdFromBytes<8>(rows.Bytes(r, 2));
  j.name = rows.Text(r, 3);
  j.kind = rows.Text(r, 4);
  j.status = rows.Text(r, 5);
  j.host = rows.Text(r, 6);
  j.service = rows.Text(r, 7);
  j.resource_group = rows.Text(r, 8);
  j.start_ns = rows.Int(r, 9);
  j.end_ns = rows.Int(r, 10);
  j.bytes_added = rows.Int(r, 11);
  j.bytes_total = rows.Int(r, 12);
  j.files_total = rows.Int(r, 13);
  j.error_type = rows.Text(r, 14);
  j.error_message = rows.Text(r, 15);
  j.snapshot_id = rows.Text(r, 16);
  j.source_key = rows.Text(r, 17);
  j.source_paths = rows.Text(r, 18);
  j.tags = TagsFromJson(std::string(rows.Text(r, 19)));
  j.updated_ns = rows.Int(r, 20);
  j.files_changed = rows.Int(r, 21);
  j.bytes_read = rows.Int(r, 22);
  j.bytes_stored = rows.Int(r, 23);
  j.deadline_ns = rows.Int(r, 24);
  return j;
}

Result<JobPage> PostgresSpanStore::ListJobs(const JobQuery& q, const Scope& scope) {
  Impl::Conn db(impl_.get());
  if (!db.status().ok()) return db.status();
  auto list = BuildJobListSql(q, scope, LostBefore(impl_->env->NowUnixNanos(), impl_->options.lost_after_ns),
                              TagLookupOn(db.get()), SqlDialect::kPostgres);
  if (!list.ok()) return list.status();
  JobPage page;
  if (list->sql.empty()) return page;
  auto rows = db->Query(list->sql, ParamsOf(list->where));
  if (!rows.ok()) return rows.status();
  for (int r = 0; r < rows->size(); ++r)
    if (!AddListedJob(*list, ReadJob(*rows, r), &page)) break;
  return page;
}

Result<StoredTrace> PostgresSpanStore::GetTrace(const trace::TraceId& id, const Scope& scope) {
  Impl::Conn db(impl_.get());
  if (!db.status().ok()) return db.status();
  const std::vector<pg::Param> tid = {Hex(trace::IdBytes(id))};
  auto chunks = db->Query("SELECT raw_length, body FROM span_chunks WHERE trace_id = decode($1, 'hex') ORDER BY id", tid);
  if (!chunks.ok()) return chunks.status();
  auto live = db->Query("SELECT body FROM live_spans WHERE trace_id = decode($1, 'hex')", tid);
  if (!live.ok()) return live.status();
  TraceAssembler trace(id, scope);
  for (int r = 0; r < chunks->size(); ++r)
    RETURN_IF_ERROR(trace.AddChunk(chunks->Bytes(r, 1), static_cast<uint64_t>(chunks->Int(r, 0))));
  for (int r = 0; r < live->size(); ++r) RETURN_IF_ERROR(trace.AddLive(live->Bytes(r, 0)));
  return trace.Finish();
}

Result<Trend> PostgresSpanStore::GetTrend(const TrendQuery& q, const Scope& scope) {
  auto trend = TrendBuilder::Start(q);
  if (!trend.ok()) return trend.status();
  Impl::Conn db(impl_.get());
  if (!db.status().ok()) return db.status();
  auto read = trend->Sql(scope, TagLookupOn(db.get()), SqlDialect::kPostgres);
  if (!read.ok()) return read.status();
  if (read->sql.empty()) return Trend{};
  if (read->from_rollups) (void)AddPendingBeforeRead(db.get());  // else stale by at most a second
  auto rows = db->Query(read->sql, ParamsOf(read->where));
  if (!rows.ok()) return rows.status();
  for (int r = 0; r < rows->size(); ++r) {
    if (read->from_rollups) {
      DurationHistogram durations;
      durations.MergeDense(rows->Ints(r, 9));
      const std::string hist = durations.Encode();
      trend->AddRollup({.start = rows->Int(r, 0), .group = std::string(rows->Text(r, 1)), .jobs = rows->Int(r, 2),
                        .ok = rows->Int(r, 3), .partial = rows->Int(r, 4), .failed = rows->Int(r, 5),
                        .bytes_added = rows->Int(r, 7), .bytes_total = rows->Int(r, 8),
                        .duration_sum = rows->Double(r, 6), .hist = hist});
    } else {
      trend->AddJob(rows->Int(r, 0), rows->Int(r, 1), rows->Text(r, 2), rows->Int(r, 3), rows->Int(r, 4),
                    std::string(rows->Text(r, 5)));
    }
  }
  return trend->Finish();
}

Result<std::vector<SourceState>> PostgresSpanStore::Sources(const Scope& scope) {
  Impl::Conn db(impl_.get());
  if (!db.status().ok()) return db.status();
  (void)AddPendingBeforeRead(db.get());  // else stale by at most a second
  // '' is a source a transaction has made and not yet filled.
  auto rows = db->Query("SELECT id, state, key FROM sources WHERE state != '' ORDER BY id");
  if (!rows.ok()) return rows.status();
  std::vector<SourceState> out;
  for (int r = 0; r < rows->size(); ++r) impl_->parsed.AddSource(rows->Int(r, 0), rows->Text(r, 2), rows->Text(r, 1), scope, &out);
  return out;
}

Result<std::vector<AgentRecord>> PostgresSpanStore::Agents(const Scope& scope) {
  Impl::Conn db(impl_.get());
  if (!db.status().ok()) return db.status();
  auto rows = db->Query("SELECT name, body FROM agents ORDER BY name");
  if (!rows.ok()) return rows.status();
  std::vector<AgentRecord> out;
  for (int r = 0; r < rows->size(); ++r) impl_->parsed.AddAgent(rows->Text(r, 0), rows->Text(r, 1), scope, &out);
  return out;
}

Result<std::vector<JobCount>> PostgresSpanStore::JobCounts(const Scope& scope) {
  Impl::Conn db(impl_.get());
  if (!db.status().ok()) return db.status();
  std::vector<JobCount> out;
  Result<pg::Rows> rows = Status::Ok();
  if (scope.AllowsEverything()) {
    (void)AddPendingBeforeRead(db.get());  // else stale by at most a second
    rows = db->Query("SELECT kind, status, count FROM job_counts WHERE count != 0 ORDER BY kind, status");
  } else {
    Where where(SqlDialect::kPostgres);
    where.Add("j.status != 'running'");
    Status scope_error;
    if (!AddScopeClause(scope, TagLookupOn(db.get()), where, &scope_error)) {
      if (!scope_error.ok()) return scope_error;
      return out;
    }
    rows = db->Query("SELECT j.kind, j.status, count(*) FROM jobs j" + where.Sql() + " GROUP BY 1, 2 ORDER BY 1, 2",
                     ParamsOf(where));
  }
  if (!rows.ok()) return rows.status();
  for (int r = 0; r < rows->size(); ++r)
    out.push_back({std::string(rows->Text(r, 0)), std::string(rows->Text(r, 1)), rows->Int(r, 2)});
  return out;
}

Result<std::vector<std::pair<std::string, std::vector<std::string>>>> PostgresSpanStore::TagKeys(int values_per_key,
                                                                                              const Scope& scope) {
  Impl::Conn db(impl_.get());
  if (!db.status().ok()) return db.status();
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  // Bounded: a high-cardinality key cannot make this slow.
  std::string sql = "SELECT key, value FROM tags t";
  Where where(SqlDialect::kPostgres);
  if (!scope.AllowsEverything()) {
    // Only values that some job in the scope carries.
    Status scope_error;
    if (!AddScopeClause(scope, TagLookupOn(db.get()), where, &scope_error)) {
      if (!scope_error.ok()) return scope_error;
      return out;  // nothing can be in this scope
    }
    where.Add("s.tag_id = t.id");
    where.Add("j.start_ns = s.start_ns AND j.id = s.job_id");
    sql += " WHERE EXISTS (SELECT 1 FROM job_tags s, jobs j" + where.Sql() + ")";
  }
  sql += " ORDER BY key, value LIMIT 20000";
  auto rows = db->Query(sql, ParamsOf(where));
  if (!rows.ok()) return rows.status();
  for (int r = 0; r < rows->size(); ++r) {
    std::string key(rows->Text(r, 0));
    if (out.empty() || out.back().first != key) out.emplace_back(key, std::vector<std::string>{});
    if (static_cast<int>(out.back().second.size()) < values_per_key) out.back().second.emplace_back(rows->Text(r, 1));
  }
  return out;
}

Status PostgresSpanStore::CheckReadable() {
  Impl::Conn db(impl_.get());
  if (!db.status().ok()) return db.status();
  return db->QueryInt("SELECT 1").status();
}

Result<StoreStats> PostgresSpanStore::Stats(const Scope& scope) {
  Impl::Conn db(impl_.get());
  if (!db.status().ok()) return db.status();
  StoreStats s;
  Where where(SqlDialect::kPostgres);
  Status scope_error;
  if (!AddScopeClause(scope, TagLookupOn(db.get()), where, &scope_error)) {
    if (!scope_error.ok()) return scope_error;
    return s;  // nothing can be in this scope
  }
  Where running = where;
  running.Add("j.status = 'running'");
  running.Add("j.updated_ns >= " + running.Param(LostBefore(impl_->env->NowUnixNanos(), impl_->options.lost_after_ns)));
  auto jobs = db->QueryInt("SELECT count(*) FROM jobs j" + where.Sql(), ParamsOf(where));
  if (!jobs.ok()) return jobs.status();
  auto live = db->QueryInt("SELECT count(*) FROM jobs j" + running.Sql(), ParamsOf(running));
  if (!live.ok()) return live.status();
  s.jobs = *jobs;
  s.running_jobs = *live;
  if (scope.unrestricted) {
    auto bytes = db->QueryInt("SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c "
                              "WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace");
    if (!bytes.ok()) return bytes.status();
    s.bytes = *bytes;
  }
  return s;
}

}  // namespace backspan::observatory
