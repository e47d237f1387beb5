// Opening the store, its schema, and the writer: group commit, the job,
// rollup and source bookkeeping of each batch, and retention.
#include "observatory/store/sqlite/sqlite_span_store.h"

#include "observatory/store/agent_record.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "env/env.h"
#include "observatory/store/sqlite/sqlite_span_store_impl.h"

namespace backspan::observatory {
namespace {

// auto_vacuum must precede the first table; incremental so that retention
// can hand freed pages back to the filesystem. Neither may run in a transaction.
const char kPragmas[] = "PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = WAL;";

constexpr int64_t kSchemaVersion = 5;  // 4: agents' heartbeats; 5: the jobs' measures insight reads
const char kSchema[] = R"(
CREATE TABLE IF NOT EXISTS span_chunks (
  id INTEGER PRIMARY KEY, trace_id BLOB NOT NULL, start_ns INTEGER NOT NULL,
  span_count INTEGER NOT NULL, raw_length INTEGER NOT NULL, body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS span_chunks_by_trace ON span_chunks (trace_id);
CREATE INDEX IF NOT EXISTS span_chunks_by_start ON span_chunks (start_ns);
CREATE TABLE IF NOT EXISTS live_spans (
  span_id BLOB PRIMARY KEY, trace_id BLOB NOT NULL, updated_ns INTEGER NOT NULL, body BLOB NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS live_spans_by_trace ON live_spans (trace_id);
CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY, trace_id BLOB NOT NULL, span_id BLOB NOT NULL, name TEXT NOT NULL,
  kind TEXT NOT NULL, status TEXT NOT NULL, host TEXT NOT NULL, service TEXT NOT NULL,
  resource_group TEXT NOT NULL, start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL,
  bytes_added INTEGER NOT NULL, bytes_total INTEGER NOT NULL, files_total INTEGER NOT NULL,
  error_type TEXT NOT NULL, error_message TEXT NOT NULL, snapshot_id TEXT NOT NULL,
  source_key TEXT NOT NULL, source_paths TEXT NOT NULL, tags TEXT NOT NULL, updated_ns INTEGER NOT NULL,
  files_changed INTEGER NOT NULL DEFAULT 0, bytes_read INTEGER NOT NULL DEFAULT 0,
  bytes_stored INTEGER NOT NULL DEFAULT 0, deadline_ns INTEGER NOT NULL DEFAULT 0);
-- A job's identity, found by its start time first: jobs arrive roughly in
-- time order, so this index grows at its end instead of at random places
-- (schema 1 had (trace_id, span_id) and (start_ns) instead).
DROP INDEX IF EXISTS jobs_by_span;
DROP INDEX IF EXISTS jobs_by_start;
CREATE UNIQUE INDEX IF NOT EXISTS jobs_by_time ON jobs (start_ns, span_id, trace_id);
CREATE INDEX IF NOT EXISTS jobs_by_kind ON jobs (kind, start_ns);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, start_ns);
CREATE TABLE IF NOT EXISTS tags (id INTEGER PRIMARY KEY, key TEXT NOT NULL, value TEXT NOT NULL, UNIQUE (key, value));
CREATE TABLE IF NOT EXISTS job_tags (
  tag_id INTEGER NOT NULL, start_ns INTEGER NOT NULL, job_id INTEGER NOT NULL,
  PRIMARY KEY (tag_id, start_ns, job_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollups (
  tag_key TEXT NOT NULL, hour INTEGER NOT NULL, kind TEXT NOT NULL, resource_group TEXT NOT NULL,
  tag_value TEXT NOT NULL, jobs INTEGER NOT NULL, ok INTEGER NOT NULL, partial INTEGER NOT NULL,
  failed INTEGER NOT NULL, duration_sum REAL NOT NULL, bytes_added INTEGER NOT NULL,
  bytes_total INTEGER NOT NULL, hist BLOB NOT NULL,
  PRIMARY KEY (tag_key, hour, kind, resource_group, tag_value)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollups_daily (
  tag_key TEXT NOT NULL, day INTEGER NOT NULL, kind TEXT NOT NULL, resource_group TEXT NOT NULL,
  tag_value TEXT NOT NULL, jobs INTEGER NOT NULL, ok INTEGER NOT NULL, partial INTEGER NOT NULL,
  failed INTEGER NOT NULL, duration_sum REAL NOT NULL, bytes_added INTEGER NOT NULL,
  bytes_total INTEGER NOT NULL, hist BLOB NOT NULL,
  PRIMARY KEY (tag_key, day, kind, resource_group, tag_value)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sources (
  id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, state TEXT NOT NULL, last_job_ns INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS job_counts (
  kind TEXT NOT NULL, status TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (kind, status)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS agents (name TEXT PRIMARY KEY, sent_ns INTEGER NOT NULL, body TEXT NOT NULL) WITHOUT ROWID;
)";

// Schemas 1 to 4 kept none of the measures insight reads: older jobs read as 0.
const char kAddMeasures[] =
    "ALTER TABLE jobs ADD COLUMN files_changed INTEGER NOT NULL DEFAULT 0; "
    "ALTER TABLE jobs ADD COLUMN bytes_read INTEGER NOT NULL DEFAULT 0; "
    "ALTER TABLE jobs ADD COLUMN bytes_stored INTEGER NOT NULL DEFAULT 0; "
    "ALTER TABLE jobs ADD COLUMN deadline_ns INTEGER NOT NULL DEFAULT 0";

// Schemas 1 and 2 had no daily rollups: the aggregates are rebuilt from the
// jobs (at startup, by the recovery that follows).
const char kRebuildAggregates[] =
    "DELETE FROM rollups; DELETE FROM sources; DELETE FROM job_counts; DELETE FROM meta";

}  // namespace



Result<std::unique_ptr<SpanStore>> SqliteSpanStore::Open(const StoreOptions& options, Env* env) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->env = env;
  if (Status s = CreateDirs(env, options.dir); !s.ok()) return s;
  impl->path = options.dir + "/observatory.db";
  auto db = sql::Db::Open(impl->path, true, true);
  if (!db.ok()) return db.status();
  impl->wdb = std::move(*db);
  auto version = impl->wdb.QueryInt("PRAGMA user_version");
  if (!version.ok()) return Status::Corruption(impl->path + " is not an observatory database: " + version.status().message());
  if (*version > kSchemaVersion)
    return Status::Unsupported(impl->path + " was written by a newer backspan (schema " + std::to_string(*version) + ")");
  if (Status s = impl->wdb.Exec(kPragmas); !s.ok()) return s;
  if (*version < kSchemaVersion) {
    std::string upgrade = std::string("BEGIN IMMEDIATE;") + kSchema + ";";
    if (*version >= 1 && *version < 3) upgrade += std::string(kRebuildAggregates) + ";";
    if (*version >= 1 && *version < 5) upgrade += std::string(kAddMeasures) + ";";
    upgrade += "PRAGMA user_version = " + std::to_string(kSchemaVersion) + "; COMMIT;";
    if (Status s = impl->wdb.Exec(upgrade); !s.ok()) {
      (void)impl->wdb.Exec("ROLLBACK");
      return s.WithContext("cannot create or upgrade the store's schema");
    }
  }
  if (Status s = impl->wdb.Exec(options.sync_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL"); !s.ok()) return s;
  // Checkpoints run from the writer between commits. A 64 MB WAL means few
  // of them, each writing a hot index page once for many commits: at a
  // million stored jobs, 4,000 pages cost a fifth of the ingest rate.
  if (Status s = impl->wdb.Exec("PRAGMA wal_autocheckpoint = 16000; PRAGMA cache_size = -65536"); !s.ok()) return s;
  auto live = impl->wdb.QueryInt("SELECT count(*) FROM live_spans");
  if (!live.ok()) return live.status();
  impl->live_count = *live;
  // Jobs stored after the aggregates were last written (a crash) count now.
  if (Status s = impl->RecoverAggregates(); !s.ok()) return s;
  Impl* raw = impl.get();
  impl->writer = std::thread([raw] { raw->WriterLoop(); });
  return std::unique_ptr<SpanStore>(new SqliteSpanStore(std::move(impl)));
}

SqliteSpanStore::SqliteSpanStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SqliteSpanStore::~SqliteSpanStore() {
  impl_->queue.Stop();
  if (impl_->writer.joinable()) impl_->writer.join();
}

Result<WriteOutcome> SqliteSpanStore::Write(IngestBatch batch, const Scope& writer) {
  return impl_->queue.Submit(std::move(batch), writer);
}

void SqliteSpanStore::Impl::WriterLoop() {
  constexpr size_t kMaxBatchesPerCommit = 64;
  constexpr int64_t kAggregatesIntervalNs = 1'000'000'000;
  last_retention_ns = env->MonotonicNanos();
  (void)Retain();  // data past the limits goes at startup, not a minute later
  std::vector<Pending*> work;
  while (queue.Take(kMaxBatchesPerCommit, std::chrono::seconds(5), &work)) {
    Status st = wdb.Exec("BEGIN IMMEDIATE");
    const int64_t live_before = live_count;
    for (Pending* p : work) {
      if (!st.ok()) break;
      st = RejectForeignReplacements(p->batch, p->writer, &p->outcome);
      if (st.ok()) st = Apply(p->batch);
    }
    // The aggregates go out with this commit when nothing else waits (so a
    // quiet server's trends and freshness are current as soon as it
    // answers), else at most once a second.
    if (st.ok() && aggregates.dirty()) {
      const bool idle = !queue.WaitForMore(std::chrono::milliseconds(0));
      const int64_t now = env->MonotonicNanos();
      if (idle || aggregates.must_flush() || now - aggregates_written_ns >= kAggregatesIntervalNs) {
        st = aggregates.Flush(wdb);
        aggregates_written_ns = now;
      }
    }
    st = EndTransaction(st);
    if (!st.ok()) live_count = live_before;
    for (Pending* p : work) p->result = st;
    queue.Finish(work);
    if (env->MonotonicNanos() - last_retention_ns >= options.retention_check_interval_ns) {
      last_retention_ns = env->MonotonicNanos();
      (void)Retain();
    }
  }
}

Result<int64_t> SqliteSpanStore::Impl::TagId(const std::string& key, const std::string& value) {
  std::string k = key;
  k.push_back('\0');
  k += value;
  if (auto it = tag_ids.find(k); it != tag_ids.end()) return it->second;
  sql::Stmt* ins = wdb.Cached("INSERT INTO tags (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING");
  if (!ins) return wdb.Error("preparing a statement");
  if (Status s = ins->Bind(1, key).Bind(2, value).Run(); !s.ok()) return s;
  sql::Stmt* sel = wdb.Cached("SELECT id FROM tags WHERE key = ? AND value = ?");
  if (!sel) return wdb.Error("preparing a statement");
  sel->Bind(1, key).Bind(2, value);
  auto row = sel->Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::Internal("a tag vanished");
  int64_t id = sel->Int(0);
  sel->Reset();
  if (tag_ids.size() > 200000) tag_ids.clear();  // bounded memory for high-cardinality tags
  tag_ids.emplace(std::move(k), id);
  return id;
}

Status SqliteSpanStore::Impl::Apply(IngestBatch& batch) {
  if (!batch.chunks.empty()) {
    sql::Stmt* ins = wdb.Cached("INSERT INTO span_chunks (trace_id, start_ns, span_count, raw_length, body) VALUES (?, ?, ?, ?, ?)");
    if (!ins) return wdb.Error("preparing a statement");
    for (const TraceChunk& c : batch.chunks) {
      ins->BindBlob(1, c.trace_id.data(), c.trace_id.size())
          .Bind(2, c.start_ns)
          .Bind(3, static_cast<int64_t>(c.span_count))
          .Bind(4, static_cast<int64_t>(c.raw_length))
          .BindBlob(5, c.body.data(), c.body.size());
      if (Status s = ins->Run(); !s.ok()) return s;
    }
  }
  // Finished spans retire their in-progress snapshots.
  if (live_count > 0 && !batch.finished.empty()) {
    sql::Stmt* del = wdb.Cached("DELETE FROM live_spans WHERE span_id = ?");
    if (!del) return wdb.Error("preparing a statement");
    for (const auto& id : batch.finished) {
      if (Status s = del->BindBlob(1, id.data(), id.size()).Run(); !s.ok()) return s;
      live_count -= wdb.Changes();
    }
  }
  if (!batch.live.empty()) {
    sql::Stmt* up = wdb.Cached("INSERT INTO live_spans (span_id, trace_id, updated_ns, body) VALUES (?, ?, ?, ?) "
                          "ON CONFLICT (span_id) DO UPDATE SET updated_ns = excluded.updated_ns, body = excluded.body");
    if (!up) return wdb.Error("preparing a statement");
    const int64_t now = env->NowUnixNanos();
    for (const LiveSpan& s : batch.live) {
      // A snapshot of a span that already finished is late: drop it.
      sql::Stmt* done = wdb.Cached(
          "SELECT 1 FROM jobs WHERE start_ns = ? AND span_id = ? AND trace_id = ? AND status != 'running'");
      if (!done) return wdb.Error("preparing a statement");
      done->Bind(1, s.start_ns).BindBlob(2, s.span_id.data(), s.span_id.size()).BindBlob(3, s.trace_id.data(), s.trace_id.size());
      auto row = done->Step();
      if (!row.ok()) return row.status();
      const bool finished = *row;
      done->Reset();
      if (finished) continue;
      up->BindBlob(1, s.span_id.data(), s.span_id.size())
          .BindBlob(2, s.trace_id.data(), s.trace_id.size())
          .Bind(3, now)
          .BindBlob(4, s.body.data(), s.body.size());
      if (Status st = up->Run(); !st.ok()) return st;
      live_count += 1;  // an over-estimate on replacement; only gates the deletes above
    }
  }
  for (const JobRecord& job : batch.jobs)
    if (Status s = ApplyJob(job); !s.ok()) return s;
  if (!batch.agents.empty()) {
    // A heartbeat delivered late from an agent's spool never replaces a newer one.
    sql::Stmt* up = wdb.Cached(
        "INSERT INTO agents (name, sent_ns, body) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
        "sent_ns = excluded.sent_ns, body = excluded.body WHERE excluded.sent_ns >= agents.sent_ns");
    if (!up) return wdb.Error("preparing a statement");
    for (const AgentRecord& a : batch.agents)
      if (Status s = up->Bind(1, a.name).Bind(2, a.sent_ns).Bind(3, AgentRecordToJson(a, Scope::All())).Run(); !s.ok())
        return s;
  }
  return Status::Ok();
}

Status SqliteSpanStore::Impl::ApplyJob(const JobRecord& job) {
  const std::string tid = trace::IdBytes(job.trace_id), sid = trace::IdBytes(job.span_id);
  sql::Stmt* find = wdb.Cached("SELECT id, status, tags FROM jobs WHERE start_ns = ? AND span_id = ? AND trace_id = ?");
  if (!find) return wdb.Error("preparing a statement");
  find->Bind(1, job.start_ns).BindBlob(2, sid.data(), sid.size()).BindBlob(3, tid.data(), tid.size());
  auto row = find->Step();
  if (!row.ok()) return row.status();
  const bool running = job.status == semconv::kJobStatusRunning;
  int64_t id = 0;
  bool revised_finished = false;
  if (*row) {
    // Stored before: a duplicate delivery, a running job's update or end, or
    // a revision.
    const bool was_finished = find->Text(1) != semconv::kJobStatusRunning;
    if (was_finished && !job.revision) {  // finished jobs are final
      find->Reset();
      return Status::Ok();
    }
    id = find->Int(0);
    const std::vector<Tag> old_tags = TagsFromJson(find->Text(2));
    find->Reset();
    if (was_finished) {
      auto old = ReadJobById(id);
      if (!old.ok()) return old.status();
      if (SameJob(*old, job)) return Status::Ok();
      // The stored version was counted: take it out before the new one goes in.
      if (Status s = aggregates.Remove(*old, id); !s.ok()) return s;
      revised_finished = true;
    }
    sql::Stmt* del = wdb.Cached("DELETE FROM job_tags WHERE tag_id = ? AND start_ns = ? AND job_id = ?");
    if (!del) return wdb.Error("preparing a statement");
    for (const auto& [k, v] : old_tags) {
      auto tag = TagId(k, v);
      if (!tag.ok()) return tag.status();
      if (Status s = del->Bind(1, *tag).Bind(2, job.start_ns).Bind(3, id).Run(); !s.ok()) return s;
    }
  }
  static const char kUpdate[] =
      "UPDATE jobs SET name = ?3, kind = ?4, status = ?5, host = ?6, service = ?7, resource_group = ?8, "
      "start_ns = ?9, end_ns = ?10, bytes_added = ?11, bytes_total = ?12, files_total = ?13, error_type = ?14, "
      "error_message = ?15, snapshot_id = ?16, source_key = ?17, source_paths = ?18, tags = ?19, updated_ns = ?20, "
      "files_changed = ?22, bytes_read = ?23, bytes_stored = ?24, deadline_ns = ?25 WHERE id = ?21";
  static const char kInsert[] =
      "INSERT INTO jobs (trace_id, span_id, name, kind, status, host, service, resource_group, start_ns, end_ns, "
      "bytes_added, bytes_total, files_total, error_type, error_message, snapshot_id, source_key, source_paths, "
      "tags, updated_ns, files_changed, bytes_read, bytes_stored, deadline_ns) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?22, ?23, ?24, ?25)";
  sql::Stmt* st = wdb.Cached(id ? kUpdate : kInsert);
  if (!st) return wdb.Error("preparing a statement");
  if (!id) st->BindBlob(1, tid.data(), tid.size()).BindBlob(2, sid.data(), sid.size());
  st->Bind(3, job.name).Bind(4, job.kind).Bind(5, job.status).Bind(6, job.host).Bind(7, job.service)
      .Bind(8, job.resource_group).Bind(9, job.start_ns).Bind(10, job.end_ns).Bind(11, job.bytes_added)
      .Bind(12, job.bytes_total).Bind(13, job.files_total).Bind(14, job.error_type).Bind(15, job.error_message)
      .Bind(16, job.snapshot_id).Bind(17, job.source_key).Bind(18, job.source_paths).Bind(19, TagsToJson(job.tags))
      .Bind(20, env->NowUnixNanos()).Bind(22, job.files_changed).Bind(23, job.bytes_read).Bind(24, job.bytes_stored)
      .Bind(25, job.deadline_ns);
  if (id) st->Bind(21, id);
  if (Status s = st->Run(); !s.ok()) return s;
  if (!id) id = wdb.LastInsertRowid();

  sql::Stmt* ins = wdb.Cached("INSERT OR IGNORE INTO job_tags (tag_id, start_ns, job_id) VALUES (?, ?, ?)");
  if (!ins) return wdb.Error("preparing a statement");
  for (const auto& [k, v] : job.tags) {
    auto tag = TagId(k, v);
    if (!tag.ok()) return tag.status();
    if (Status s = ins->Bind(1, *tag).Bind(2, job.start_ns).Bind(3, id).Run(); !s.ok()) return s;
  }
  if (running) return Status::Ok();

  // Finished: counted once in the rollups, the counters and its source (a
  // revision's source keeps the counts of the version first counted).
  return aggregates.Add(wdb, job, id, !revised_finished);
}

Result<JobRow> SqliteSpanStore::Impl::ReadJobById(int64_t id) {
  static const std::string kSelect = "SELECT " + JobColumns() + " FROM jobs WHERE id = ?";
  sql::Stmt* sel = wdb.Cached(kSelect.c_str());
  if (!sel) return wdb.Error("preparing a statement");
  sel->Bind(1, id);
  auto row = sel->Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::NotFound("job " + std::to_string(id));
  JobRow job = ReadJob(*sel);
  sel->Reset();
  return job;
}


Status SqliteSpanStore::Impl::EndTransaction(Status st) {
  wdb.ResetCached();  // no statement may hold a snapshot past the commit
  if (st.ok()) st = wdb.Exec("COMMIT");
  if (st.ok()) return st;
  (void)wdb.Exec("ROLLBACK");
  tag_ids.clear();  // ids inserted by the rolled-back transaction are gone
  (void)RecoverAggregates();
  return st;
}

Status SqliteSpanStore::Impl::RecoverAggregates() {
  aggregates.Forget();
  Status s = wdb.Exec("BEGIN IMMEDIATE");
  if (s.ok()) s = aggregates.Recover(wdb);
  if (s.ok() && aggregates.dirty()) s = aggregates.Flush(wdb);
  wdb.ResetCached();
  if (s.ok()) return wdb.Exec("COMMIT");
  (void)wdb.Exec("ROLLBACK");
  aggregates.Forget();
  return s;
}

Status SqliteSpanStore::Impl::DeleteOlderThan(int64_t cutoff_ns, bool sources_too) {
  auto run = [&](const char* q, int64_t v) -> Status {
    auto st = wdb.Prepare(q);
    if (!st.ok()) return st.status();
    return st->Bind(1, v).Run();
  };
  Status s = run("DELETE FROM span_chunks WHERE start_ns < ?", cutoff_ns);
  if (s.ok()) s = run("DELETE FROM job_tags WHERE tag_id IN (SELECT id FROM tags) AND start_ns < ?", cutoff_ns);
  if (s.ok()) s = run("DELETE FROM jobs WHERE start_ns < ?", cutoff_ns);
  if (s.ok()) s = run("DELETE FROM live_spans WHERE updated_ns < ?", cutoff_ns);
  if (s.ok()) s = run("DELETE FROM rollups WHERE tag_key IN (SELECT DISTINCT key FROM tags UNION SELECT '') AND hour < ?",
                      cutoff_ns / kHourNs * kHourNs);
  // An hour or a day goes when all of it is past the cutoff.
  if (s.ok()) s = run("DELETE FROM rollups_daily WHERE tag_key IN (SELECT DISTINCT key FROM tags UNION SELECT '') AND day < ?",
                      cutoff_ns / kDayNs * kDayNs);
  if (s.ok() && sources_too) s = run("DELETE FROM sources WHERE last_job_ns < ?", cutoff_ns);
  if (s.ok()) s = aggregates.ResetWatermark(wdb);  // the newest jobs may be gone, and their ids used again
  return s;
}

Status SqliteSpanStore::Impl::Retain() {
  const int64_t now = env->NowUnixNanos();
  // Retention works on written aggregates: sources may be deleted, and the
  // watermark may move back.
  Status s = wdb.Exec("BEGIN IMMEDIATE");
  if (s.ok() && aggregates.dirty()) s = aggregates.Flush(wdb);
  if (s.ok() && options.retention_ns > 0) s = DeleteOlderThan(now - options.retention_ns, true);
  if (s = EndTransaction(s); !s.ok()) return s;
  if (options.retention_ns > 0) aggregates.Forget();  // cached sources may be deleted ones; nothing is unwritten
  // Size: drop the oldest tenth of the spans until the data fits.
  for (int round = 0; options.max_bytes > 0 && round < 20; ++round) {
    auto pages = wdb.QueryInt("PRAGMA page_count");
    auto free_pages = wdb.QueryInt("PRAGMA freelist_count");
    auto page_size = wdb.QueryInt("PRAGMA page_size");
    if (!pages.ok() || !free_pages.ok() || !page_size.ok()) return Status::IOError("cannot measure the database");
    if ((*pages - *free_pages) * *page_size <= options.max_bytes) break;
    auto chunks = wdb.QueryInt("SELECT count(*) FROM span_chunks");
    if (!chunks.ok() || *chunks == 0) break;
    sql::Stmt* cut = wdb.Cached("SELECT start_ns FROM span_chunks ORDER BY start_ns LIMIT 1 OFFSET ?");
    if (!cut) return wdb.Error("preparing a statement");
    cut->Bind(1, std::max<int64_t>(*chunks / 10, 1));
    auto row = cut->Step();
    if (!row.ok()) return row.status();
    int64_t cutoff = *row ? cut->Int(0) : INT64_MAX;
    cut->Reset();
    s = wdb.Exec("BEGIN IMMEDIATE");
    if (s.ok()) s = DeleteOlderThan(cutoff, false);
    if (s = EndTransaction(s); !s.ok()) return s;
  }
  // Give freed pages back to the filesystem, and keep the WAL short.
  (void)wdb.Exec("PRAGMA incremental_vacuum");
  return wdb.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

}  // namespace backspan::observatory
