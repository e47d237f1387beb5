// The store's read side: job lists, traces, sources, counters. Every query
// that returns jobs or sources applies the caller's Scope in SQL or before
// returning.

#include "env/env.h"
#include "observatory/store/agent_record.h"
#include "observatory/store/sqlite/sqlite_span_store_impl.h"
#include "observatory/store/trace_chunk.h"
#include "trace/semconv.h"

namespace backspan::observatory {




SqliteSpanStore::Impl::Reader::Reader(Impl* impl) : impl_(impl) {
  {
    std::lock_guard<std::mutex> l(impl->pool_mu);
    if (!impl->pool.empty()) {
      db_ = std::move(impl->pool.back());
      impl->pool.pop_back();
      return;
    }
  }
  auto db = sql::Db::Open(impl->path, true, false);
  if (!db.ok()) {
    status_ = db.status();
    return;
  }
  db_ = std::move(*db);
  status_ = db_.Exec("PRAGMA query_only = 1; PRAGMA cache_size = -32768");
}

SqliteSpanStore::Impl::Reader::~Reader() {
  if (!status_.ok() || !db_.raw()) return;
  db_.ResetCached();
  std::lock_guard<std::mutex> l(impl_->pool_mu);
  if (impl_->pool.size() < 8) impl_->pool.push_back(std::move(db_));
}




Result<JobPage> SqliteSpanStore::ListJobs(const JobQuery& q, const Scope& scope) {
  Impl::Reader db(impl_.get());
  if (!db.status().ok()) return db.status();
  auto list = BuildJobListSql(q, scope, LostBefore(impl_->env->NowUnixNanos(), impl_->options.lost_after_ns),
                              TagLookupOn(db.db()), SqlDialect::kSqlite);
  if (!list.ok()) return list.status();
  JobPage page;
  if (list->sql.empty()) return page;
  Status scan = ForEachRow(db.db(), list->sql, &list->where,
                           [&](sql::Stmt& row) { return AddListedJob(*list, ReadJob(row), &page); });
  if (!scan.ok()) return scan;
  return page;
}

Result<StoredTrace> SqliteSpanStore::GetTrace(const trace::TraceId& id, const Scope& scope) {
  Impl::Reader db(impl_.get());
  if (!db.status().ok()) return db.status();
  TraceAssembler trace(id, scope);
  // Runs `st` with the trace id bound, handing each row to `add`.
  auto scan = [&](sql::Stmt* st, auto add) -> Status {
    if (!st) return db->Error("preparing a query");
    st->BindBlob(1, id.data(), id.size());
    Status s;
    while (s.ok()) {
      auto row = st->Step();
      if (!row.ok()) s = row.status();
      else if (!*row) break;
      else s = add(*st);
    }
    st->Reset();
    return s;
  };
  Status s = scan(db->Cached("SELECT raw_length, body FROM span_chunks WHERE trace_id = ? ORDER BY id"),
                  [&](sql::Stmt& r) { return trace.AddChunk(r.Blob(1), static_cast<uint64_t>(r.Int(0))); });
  if (s.ok())
    s = scan(db->Cached("SELECT body FROM live_spans WHERE trace_id = ?"), [&](sql::Stmt& r) { return trace.AddLive(r.Blob(0)); });
  if (!s.ok()) return s;
  return trace.Finish();
}

Result<std::vector<SourceState>> SqliteSpanStore::Sources(const Scope& scope) {
  Impl::Reader db(impl_.get());
  if (!db.status().ok()) return db.status();
  std::vector<SourceState> out;
  Status scan = ForEachRow(db.db(), "SELECT id, state, key FROM sources ORDER BY id", nullptr, [&](sql::Stmt& row) {
    impl_->parsed.AddSource(row.Int(0), row.Text(2), row.Blob(1), scope, &out);
    return true;
  });
  if (!scan.ok()) return scan;
  return out;
}

Result<std::vector<AgentRecord>> SqliteSpanStore::Agents(const Scope& scope) {
  Impl::Reader db(impl_.get());
  if (!db.status().ok()) return db.status();
  std::vector<AgentRecord> out;
  Status scan = ForEachRow(db.db(), "SELECT name, body FROM agents ORDER BY name", nullptr, [&](sql::Stmt& row) {
    impl_->parsed.AddAgent(row.Text(0), row.Blob(1), scope, &out);
    return true;
  });
  if (!scan.ok()) return scan;
  return out;
}

Result<std::vector<JobCount>> SqliteSpanStore::JobCounts(const Scope& scope) {
  Impl::Reader db(impl_.get());
  if (!db.status().ok()) return db.status();
  std::vector<JobCount> out;
  auto add = [&](sql::Stmt& row) {
    out.push_back({row.Text(0), row.Text(1), row.Int(2)});
    return true;
  };
  if (scope.AllowsEverything()) {
    Status s = ForEachRow(db.db(), "SELECT kind, status, count FROM job_counts ORDER BY kind, status", nullptr, add);
    if (!s.ok()) return s;
    return out;
  }
  Where where;
  where.Add("j.status != 'running'");
  Status scope_error;
  if (!AddScopeClause(db.db(), scope, where, &scope_error)) {
    if (!scope_error.ok()) return scope_error;
    return out;
  }
  Status scan = ForEachRow(db.db(), "SELECT j.kind, j.status, count(*) FROM jobs j" + where.Sql() + " GROUP BY 1, 2 ORDER BY 1, 2",
                           &where, add);
  if (!scan.ok()) return scan;
  return out;
}

Result<std::vector<std::pair<std::string, std::vector<std::string>>>> SqliteSpanStore::TagKeys(int values_per_key,
                                                                                            const Scope& scope) {
  Impl::Reader db(impl_.get());
  if (!db.status().ok()) return db.status();
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  // Bounded: a high-cardinality key cannot make this slow.
  std::string sql = "SELECT key, value FROM tags t";
  Where where;
  if (!scope.AllowsEverything()) {
    // Only values that some job in the scope carries.
    Where jobs;
    Status scope_error;
    if (!AddScopeClause(db.db(), scope, jobs, &scope_error)) {
      if (!scope_error.ok()) return scope_error;
      return out;  // nothing can be in this scope
    }
    jobs.Add("s.tag_id = t.id");
    jobs.Add("j.start_ns = s.start_ns AND j.id = s.job_id");
    sql += " WHERE EXISTS (SELECT 1 FROM job_tags s, jobs j" + jobs.Sql() + ")";
    where = std::move(jobs);
  }
  sql += " ORDER BY key, value LIMIT 20000";
  Status scan = ForEachRow(db.db(), sql, &where, [&](sql::Stmt& row) {
    std::string key = row.Text(0);
    if (out.empty() || out.back().first != key) out.emplace_back(key, std::vector<std::string>{});
    if (static_cast<int>(out.back().second.size()) < values_per_key) out.back().second.push_back(row.Text(1));
    return true;
  });
  if (!scan.ok()) return scan;
  return out;
}

Status SqliteSpanStore::CheckReadable() {
  Impl::Reader db(impl_.get());
  if (!db.status().ok()) return db.status();
  auto v = db->QueryInt("PRAGMA user_version");
  return v.ok() ? Status::Ok() : v.status();
}

Result<StoreStats> SqliteSpanStore::Stats(const Scope& scope) {
  Impl::Reader db(impl_.get());
  if (!db.status().ok()) return db.status();
  StoreStats s;
  const int64_t lost_before = LostBefore(impl_->env->NowUnixNanos(), impl_->options.lost_after_ns);
  Where where;
  Status scope_error;
  if (!AddScopeClause(db.db(), scope, where, &scope_error)) {
    if (!scope_error.ok()) return scope_error;
    return s;  // nothing can be in this scope
  }
  Where running = where;
  running.Add("j.status = 'running'");
  running.Add("j.updated_ns >= " + running.Param(lost_before));
  auto count = [&](const Where& w) -> Result<int64_t> {
    int64_t n = 0;
    Status st = ForEachRow(db.db(), "SELECT count(*) FROM jobs j" + w.Sql(), &w, [&](sql::Stmt& row) {
      n = row.Int(0);
      return false;
    });
    if (!st.ok()) return st;
    return n;
  };
  auto jobs = count(where);
  auto live = count(running);
  if (!jobs.ok()) return jobs.status();
  if (!live.ok()) return live.status();
  s.jobs = *jobs;
  s.running_jobs = *live;
  if (scope.unrestricted) {
    auto pages = db->QueryInt("PRAGMA page_count");
    auto page_size = db->QueryInt("PRAGMA page_size");
    if (!pages.ok()) return pages.status();
    if (!page_size.ok()) return page_size.status();
    s.bytes = *pages * *page_size;
  }
  return s;
}

}  // namespace backspan::observatory
