// The store's read side: job lists, traces, sources, counters. Every query
// that returns jobs or sources applies the caller's Scope in SQL or before
// returning.

#include "compress/compressor.h"
#include "env/env.h"
#include "observatory/span_store_impl.h"

namespace backspan::observatory {

std::string JobColumns(const std::string& alias) {
  std::string out;
  for (const char* c : {"id", "trace_id", "span_id", "name", "kind", "status", "host", "service", "resource_group",
                        "start_ns", "end_ns", "bytes_added", "bytes_total", "files_total", "error_type",
                        "error_message", "snapshot_id", "source_key", "source_paths", "tags", "updated_ns"})
    out += (out.empty() ? "" : ", ") + alias + c;
  return out;
}

JobRow ReadJob(sql::Stmt& row) {
  JobRow r;
  r.id = row.Int(0);
  r.trace_id = trace::IdFromBytes<16>(row.Blob(1));
  r.span_id = trace::IdFromBytes<8>(row.Blob(2));
  r.name = row.Text(3);
  r.kind = row.Text(4);
  r.status = row.Text(5);
  r.host = row.Text(6);
  r.service = row.Text(7);
  r.resource_group = row.Text(8);
  r.start_ns = row.Int(9);
  r.end_ns = row.Int(10);
  r.bytes_added = row.Int(11);
  r.bytes_total = row.Int(12);
  r.files_total = row.Int(13);
  r.error_type = row.Text(14);
  r.error_message = row.Text(15);
  r.snapshot_id = row.Text(16);
  r.source_key = row.Text(17);
  r.source_paths = row.Text(18);
  r.tags = TagsFromJson(row.Text(19));
  r.updated_ns = row.Int(20);
  return r;
}

SpanStore::Impl::Reader::Reader(Impl* impl) : impl_(impl) {
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

SpanStore::Impl::Reader::~Reader() {
  if (!status_.ok() || !db_.raw()) return;
  db_.ResetCached();
  std::lock_guard<std::mutex> l(impl_->pool_mu);
  if (impl_->pool.size() < 8) impl_->pool.push_back(std::move(db_));
}

Result<int64_t> FindTagId(sql::Db& db, const Tag& tag) {
  sql::Stmt* st = db.Cached("SELECT id FROM tags WHERE key = ? AND value = ?");
  if (!st) return db.Error("preparing a query");
  st->Bind(1, tag.first).Bind(2, tag.second);
  auto row = st->Step();
  if (!row.ok()) return row.status();
  int64_t id = *row ? st->Int(0) : 0;
  st->Reset();
  return id;
}

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

bool AddScopeClause(sql::Db& db, const Scope& scope, Where& where, Status* error) {
  if (!scope.audit) where.Add("j.kind != 'audit'");
  if (scope.unrestricted) return true;
  std::string any;
  for (const auto& g : scope.resource_groups) {
    any += any.empty() ? "" : ", ";
    any += where.Param(g);
  }
  std::string clause = any.empty() ? "" : "j.resource_group COLLATE NOCASE IN (" + any + ")";
  std::string ids;
  for (const auto& sel : scope.selectors) {
    auto id = FindTagId(db, sel);
    if (!id.ok()) {
      *error = id.status();
      return false;
    }
    if (*id) {
      ids += ids.empty() ? "" : ", ";
      ids += std::to_string(*id);
    }
  }
  if (!ids.empty()) {
    if (!clause.empty()) clause += " OR ";
    clause += "EXISTS (SELECT 1 FROM job_tags s WHERE s.tag_id IN (" + ids + ") AND s.start_ns = j.start_ns AND s.job_id = j.id)";
  }
  if (clause.empty()) return false;
  where.Add("(" + clause + ")");
  return true;
}

Result<JobPage> SpanStore::ListJobs(const JobQuery& q, const Scope& scope) {
  Impl::Reader db(impl_.get());
  if (!db.status().ok()) return db.status();
  JobPage page;
  std::vector<Tag> tags = q.tags;
  if (!q.host.empty()) tags.emplace_back("host.name", q.host);
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
  if (q.status == kStatusLost) {
    where.Add("j.status = 'running' AND j.updated_ns < " + where.Param(lost_before));
  } else if (q.status == kStatusRunning) {
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
    if (r.status == kStatusRunning && r.updated_ns < lost_before) r.status = kStatusLost;
    page.jobs.push_back(std::move(r));
    return true;
  });
  if (!scan.ok()) return scan;
  return page;
}

Result<StoredTrace> SpanStore::GetTrace(const trace::TraceId& id) {
  Impl::Reader db(impl_.get());
  if (!db.status().ok()) return db.status();
  StoredTrace out;
  sql::Stmt* st = db->Cached("SELECT raw_length, body FROM span_chunks WHERE trace_id = ? ORDER BY id");
  if (!st) return db->Error("preparing a query");
  st->BindBlob(1, id.data(), id.size());
  while (true) {
    auto row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    std::string_view body = st->Blob(1);
    const auto raw_length = static_cast<uint64_t>(st->Int(0));
    if (raw_length == 0) {
      out.finished.emplace_back(body);
      continue;
    }
    auto raw = DecompressBlob(ByteView(reinterpret_cast<const uint8_t*>(body.data()), body.size()), raw_length);
    if (!raw.ok()) return Status::Corruption("a stored span chunk of trace " + trace::ToHex(id) + " is damaged");
    out.finished.emplace_back(raw->begin(), raw->end());
  }
  st->Reset();
  sql::Stmt* live = db->Cached("SELECT body FROM live_spans WHERE trace_id = ?");
  if (!live) return db->Error("preparing a query");
  live->BindBlob(1, id.data(), id.size());
  while (true) {
    auto row = live->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.live.emplace_back(live->Blob(0));
  }
  live->Reset();
  if (out.finished.empty() && out.live.empty()) return Status::NotFound("no trace " + trace::ToHex(id));
  return out;
}

Result<std::vector<SourceState>> SpanStore::Sources(const Scope& scope) {
  Impl::Reader db(impl_.get());
  if (!db.status().ok()) return db.status();
  std::vector<SourceState> out;
  Status scan = ForEachRow(db.db(), "SELECT id, state FROM sources ORDER BY id", nullptr, [&](sql::Stmt& row) {
    SourceState s = SourceFromJson(row.Text(1));
    s.id = row.Int(0);
    if (scope.Allows(s.resource_group, s.tags)) out.push_back(std::move(s));
    return true;
  });
  if (!scan.ok()) return scan;
  return out;
}

Result<std::vector<JobCount>> SpanStore::JobCounts(const Scope& scope) {
  Impl::Reader db(impl_.get());
  if (!db.status().ok()) return db.status();
  std::vector<JobCount> out;
  auto add = [&](sql::Stmt& row) {
    out.push_back({row.Text(0), row.Text(1), row.Int(2)});
    return true;
  };
  if (scope.unrestricted && scope.audit) {
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

Result<std::vector<std::pair<std::string, std::vector<std::string>>>> SpanStore::TagKeys(int values_per_key) {
  Impl::Reader db(impl_.get());
  if (!db.status().ok()) return db.status();
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  // Bounded: a high-cardinality key cannot make this slow.
  const char* sql = "SELECT key, value FROM tags ORDER BY key, value LIMIT 20000";
  Status scan = ForEachRow(db.db(), sql, nullptr, [&](sql::Stmt& row) {
    std::string key = row.Text(0);
    if (out.empty() || out.back().first != key) out.emplace_back(key, std::vector<std::string>{});
    if (static_cast<int>(out.back().second.size()) < values_per_key) out.back().second.push_back(row.Text(1));
    return true;
  });
  if (!scan.ok()) return scan;
  return out;
}

Status SpanStore::CheckReadable() {
  Impl::Reader db(impl_.get());
  if (!db.status().ok()) return db.status();
  auto v = db->QueryInt("PRAGMA user_version");
  return v.ok() ? Status::Ok() : v.status();
}

Result<StoreStats> SpanStore::Stats(const Scope& scope) {
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
