// The store's read side: job lists, traces, sources, counters. Every query
// that returns jobs or sources applies the caller's Scope in SQL or before
// returning.

#include <set>

#include "compress/compressor.h"
#include "env/env.h"
#include "observatory/store/agent_record.h"
#include "observatory/store/sqlite/sqlite_span_store_impl.h"
#include "observatory/store/trace_chunk.h"
#include "trace/semconv.h"

namespace backspan::observatory {

namespace {

std::string EscapeLike(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

}  // namespace



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
  JobPage page;
  std::vector<Tag> tags = q.tags;
  if (!q.host.empty()) tags.emplace_back(semconv::kHostName, q.host);
  std::vector<int64_t> tag_ids;
  for (const auto& t : tags) {
    auto id = FindTagId(db.db(), t);
    if (!id.ok()) return id.status();
    if (*id == 0) return page;  // no job ever had this tag
    tag_ids.push_back(*id);
  }
  Where where;
  // With a tag, the first tag's index rows drive the query in time order.
  const std::string start = tag_ids.empty() ? "j.start_ns" : "t0.start_ns";
  const std::string id_col = tag_ids.empty() ? "j.id" : "t0.job_id";
  std::string from = "jobs j";
  if (!tag_ids.empty()) {
    from = "job_tags t0 JOIN jobs j ON j.id = t0.job_id";
    where.Add("t0.tag_id = " + where.Param(tag_ids[0]));
  }
  for (size_t i = 1; i < tag_ids.size(); ++i)
    where.Add("EXISTS (SELECT 1 FROM job_tags t WHERE t.tag_id = " + where.Param(tag_ids[i]) +
              " AND t.start_ns = j.start_ns AND t.job_id = j.id)");
  if (q.since_ns > 0) where.Add(start + " >= " + where.Param(q.since_ns));
  if (q.until_ns < INT64_MAX) where.Add(start + " < " + where.Param(q.until_ns));
  if (q.before_start_ns < INT64_MAX) {
    std::string bs = where.Param(q.before_start_ns);
    where.Add("(" + start + " < " + bs + " OR (" + start + " = " + bs + " AND " + id_col + " < " +
              where.Param(q.before_id) + "))");
  }
  if (!q.kind.empty()) where.Add("j.kind = " + where.Param(q.kind));
  // Lost jobs are running ones whose last update is too old.
  const int64_t lost_before =
      impl_->options.lost_after_ns > 0 ? impl_->env->NowUnixNanos() - impl_->options.lost_after_ns : INT64_MIN;
  if (q.status == semconv::kJobStatusLost) {
    where.Add("j.status = 'running' AND j.updated_ns < " + where.Param(lost_before));
  } else if (q.status == semconv::kJobStatusRunning) {
    where.Add("j.status = 'running' AND j.updated_ns >= " + where.Param(lost_before));
  } else if (!q.status.empty()) {
    where.Add("j.status = " + where.Param(q.status));
  }
  if (q.min_duration_ns >= 0) where.Add("j.end_ns - j.start_ns >= " + where.Param(q.min_duration_ns));
  if (q.max_duration_ns >= 0) where.Add("j.end_ns - j.start_ns <= " + where.Param(q.max_duration_ns));
  if (!q.text.empty()) {
    std::string p = where.Param("%" + EscapeLike(q.text) + "%");
    where.Add("(j.error_message LIKE " + p + " ESCAPE '\\' OR j.error_type LIKE " + p + " ESCAPE '\\' OR j.name LIKE " +
              p + " ESCAPE '\\')");
  }
  Status scope_error;
  if (!AddScopeClause(db.db(), scope, where, &scope_error)) {
    if (!scope_error.ok()) return scope_error;
    return page;
  }
  const int limit = std::clamp(q.limit, 1, 1000);
  std::string sql =
      "SELECT " + JobColumns("j.") + " FROM " +
      from + where.Sql() + " ORDER BY " + start + " DESC, " + id_col + " DESC LIMIT " + std::to_string(limit + 1);
  Status scan = ForEachRow(db.db(), sql, &where, [&](sql::Stmt& row) {
    if (static_cast<int>(page.jobs.size()) == limit) {
      page.more = true;
      return false;
    }
    JobRow r = ReadJob(row);
    if (r.status == semconv::kJobStatusRunning && r.updated_ns < lost_before) r.status = semconv::kJobStatusLost;
    page.jobs.push_back(std::move(r));
    return true;
  });
  if (!scan.ok()) return scan;
  return page;
}

Result<StoredTrace> SqliteSpanStore::GetTrace(const trace::TraceId& id, const Scope& scope) {
  Impl::Reader db(impl_.get());
  if (!db.status().ok()) return db.status();
  StoredTrace out;
  std::set<trace::SpanId> hidden;
  bool stored = false;
  // Keeps what the scope allows of one serialized ResourceSpans.
  auto keep = [&](std::string_view spans, std::vector<std::string>* into) -> Status {
    stored = true;
    if (scope.AllowsEverything()) {
      into->emplace_back(spans);
      return Status::Ok();
    }
    auto visible = SpansInScope(spans, scope, &hidden);
    if (!visible.ok()) return visible.status().WithContext("trace " + trace::ToHex(id));
    if (!visible->empty()) into->push_back(std::move(*visible));
    return Status::Ok();
  };
  sql::Stmt* st = db->Cached("SELECT raw_length, body FROM span_chunks WHERE trace_id = ? ORDER BY id");
  if (!st) return db->Error("preparing a query");
  st->BindBlob(1, id.data(), id.size());
  Status scan;
  while (scan.ok()) {
    auto row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    std::string_view body = st->Blob(1);
    const auto raw_length = static_cast<uint64_t>(st->Int(0));
    if (raw_length == 0) {
      scan = keep(body, &out.finished);
      continue;
    }
    auto raw = DecompressBlob(ByteView(reinterpret_cast<const uint8_t*>(body.data()), body.size()), raw_length);
    if (!raw.ok()) scan = Status::Corruption("a stored span chunk of trace " + trace::ToHex(id) + " is damaged");
    else scan = keep(std::string_view(reinterpret_cast<const char*>(raw->data()), raw->size()), &out.finished);
  }
  st->Reset();
  if (!scan.ok()) return scan;
  sql::Stmt* live = db->Cached("SELECT body FROM live_spans WHERE trace_id = ?");
  if (!live) return db->Error("preparing a query");
  live->BindBlob(1, id.data(), id.size());
  while (scan.ok()) {
    auto row = live->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    scan = keep(live->Blob(0), &out.live);
  }
  live->Reset();
  if (!scan.ok()) return scan;
  if (!stored) return Status::NotFound("no trace " + trace::ToHex(id));
  out.hidden = static_cast<int64_t>(hidden.size());
  return out;
}

Result<std::vector<SourceState>> SqliteSpanStore::Sources(const Scope& scope) {
  Impl::Reader db(impl_.get());
  if (!db.status().ok()) return db.status();
  std::vector<SourceState> out;
  std::lock_guard<std::mutex> cache_lock(impl_->sources_mu);
  auto& cache = impl_->parsed_sources;
  Status scan = ForEachRow(db.db(), "SELECT id, state, key FROM sources ORDER BY id", nullptr, [&](sql::Stmt& row) {
    const int64_t id = row.Int(0);
    auto& [text, parsed] = cache[id];
    if (text != row.Blob(1)) {  // the state as stored, without a copy
      text = row.Text(1);
      parsed = SourceFromJson(text);
      parsed.id = id;
      parsed.key = row.Text(2);
    }
    if (scope.Allows(parsed.resource_group, parsed.tags, false)) out.push_back(parsed);  // a source is never the audit log's
    return true;
  });
  if (!scan.ok()) return scan;
  return out;
}

Result<std::vector<AgentRecord>> SqliteSpanStore::Agents(const Scope& scope) {
  Impl::Reader db(impl_.get());
  if (!db.status().ok()) return db.status();
  std::vector<AgentRecord> out;
  std::lock_guard<std::mutex> cache_lock(impl_->sources_mu);
  auto& cache = impl_->parsed_agents;
  Status scan = ForEachRow(db.db(), "SELECT name, body FROM agents ORDER BY name", nullptr, [&](sql::Stmt& row) {
    auto& [text, parsed] = cache[row.Text(0)];
    if (text != row.Blob(1)) {
      auto agent = AgentRecordFromJson(row.Text(1));
      if (!agent.ok()) return true;
      text = row.Text(1);
      parsed = std::move(*agent);
    }
    if (!AgentInScope(parsed, scope)) return true;
    out.push_back(parsed);
    std::erase_if(out.back().policies, [&](const DeclaredPolicy& p) { return !scope.Allows(p.resource_group, p.tags, false); });
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
  const int64_t lost_before =
      impl_->options.lost_after_ns > 0 ? impl_->env->NowUnixNanos() - impl_->options.lost_after_ns : INT64_MIN;
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
