#include "trace/export/job_history.h"

#include <cctype>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "env/env.h"
#include "storage/sqlite.h"
#include "trace/job_summary.h"
#include "trace/semconv.h"
#include "util/text.h"

namespace backspan::trace {
namespace {

using nlohmann::json;

// With synchronous = NORMAL (set on every open): this is history, not backup
// data, so a commit need not wait for fsync; WAL keeps the database
// consistent, and a power cut may lose the newest jobs.
//
// Schema 2 added `status` (semconv::kJobStatus*); `ok` is kept for readers
// of schema 1 and says status == ok.
constexpr int64_t kSchemaVersion = 2;
const char kSchema[] = R"(
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS jobs (
  job_id TEXT PRIMARY KEY, trace_id TEXT NOT NULL, kind TEXT NOT NULL,
  start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL, ok INTEGER NOT NULL, error_type TEXT,
  repository TEXT, host TEXT, snapshot_id TEXT,
  bytes_read INTEGER, bytes_added INTEGER, bytes_stored INTEGER, tags TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS jobs_by_start ON jobs (start_ns);
CREATE INDEX IF NOT EXISTS jobs_by_trace ON jobs (trace_id);
CREATE TABLE IF NOT EXISTS spans (
  trace_id TEXT NOT NULL, span_id TEXT NOT NULL, parent_span_id TEXT NOT NULL, name TEXT NOT NULL,
  kind INTEGER NOT NULL, start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL,
  status INTEGER NOT NULL, status_message TEXT NOT NULL, attributes TEXT NOT NULL, events TEXT NOT NULL,
  dropped_events INTEGER NOT NULL, PRIMARY KEY (trace_id, span_id));
PRAGMA user_version = 2;
)";

// A schema 1 history: its jobs knew only ok or not (a partial backup was
// not ok, and is failed here).
const char kUpgradeFrom1[] = R"(
ALTER TABLE jobs ADD COLUMN status TEXT NOT NULL DEFAULT '';
UPDATE jobs SET status = CASE WHEN ok THEN 'ok' WHEN error_type = 'interrupted' THEN 'interrupted' ELSE 'failed' END;
PRAGMA user_version = 2;
)";

// The columns JobFromRow reads, in its order.
const char kJobColumns[] =
    "job_id, trace_id, kind, start_ns, end_ns, status, error_type, repository, host, snapshot_id, "
    "bytes_read, bytes_added, bytes_stored, tags";

json AttrsJson(const Attributes& attrs) {
  json out = json::array();
  for (const auto& a : attrs) {
    if (auto* s = std::get_if<std::string>(&a.value)) out.push_back({a.key, "s", *s});
    else if (auto* b = std::get_if<bool>(&a.value)) out.push_back({a.key, "b", *b});
    else if (auto* i = std::get_if<int64_t>(&a.value)) out.push_back({a.key, "i", *i});
    else if (auto* d = std::get_if<double>(&a.value)) out.push_back({a.key, "d", *d});
    else out.push_back({a.key, "a", std::get<StringArray>(a.value)});
  }
  return out;
}

Attributes AttrsFromJson(const json& j) {
  Attributes out;
  if (!j.is_array()) return out;
  for (const auto& e : j) {
    if (!e.is_array() || e.size() != 3 || !e[0].is_string() || !e[1].is_string()) continue;
    std::string type = e[1].get<std::string>();
    AttributeValue v;
    if (type == "s" && e[2].is_string()) v = e[2].get<std::string>();
    else if (type == "b" && e[2].is_boolean()) v = e[2].get<bool>();
    else if (type == "i" && e[2].is_number_integer()) v = e[2].get<int64_t>();
    else if (type == "d" && e[2].is_number()) v = e[2].get<double>();
    else if (type == "a" && e[2].is_array()) v = e[2].get<StringArray>();
    else continue;
    out.push_back({e[0].get<std::string>(), std::move(v)});
  }
  return out;
}

std::string Text(const Attributes& attrs, const char* key) {
  const AttributeValue* v = FindAttribute(attrs, key);
  return v ? AttributeText(*v) : "";
}


}  // namespace

struct JobHistory::Db {
  sql::Db conn;
  std::string path;

  Status Error(const std::string& what) const { return conn.Error("job history: " + what); }
};

std::string DefaultStateDir() {
  if (const char* d = std::getenv("BACKSPAN_STATE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) return std::string(x) + "/backspan";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.local/state/backspan";
}

JobHistory::JobHistory(std::unique_ptr<Db> db) : db_(std::move(db)) {}
JobHistory::~JobHistory() = default;

Result<std::unique_ptr<JobHistory>> JobHistory::Open(const std::string& dir) {
  // Private to the user: the history names repositories and paths.
  RETURN_IF_ERROR(CreateDirs(Env::Default(), dir));
  auto db = std::make_unique<Db>();
  db->path = dir + "/jobs.db";
  auto conn = sql::Db::Open(db->path, true, true);
  if (!conn.ok()) return conn.status();
  db->conn = std::move(*conn);
  RETURN_IF_ERROR(db->conn.Exec("PRAGMA synchronous = NORMAL"));
  // The schema is created once; user_version says it is there. QueryInt
  // finalizes its statement: changing the journal mode needs none running.
  auto version = db->conn.QueryInt("PRAGMA user_version");
  if (!version.ok()) return db->Error("read schema version");
  if (*version == 1) RETURN_IF_ERROR(db->conn.Exec(kUpgradeFrom1));
  if (*version < kSchemaVersion) RETURN_IF_ERROR(db->conn.Exec(kSchema));
  return std::unique_ptr<JobHistory>(new JobHistory(std::move(db)));
}

Status JobHistory::Store(const Resource& resource, const std::vector<SpanData>& spans, int64_t now_ns) {
  sql::Db& db = db_->conn;
  RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  Status st = StoreInTransaction(resource, spans, now_ns);
  if (!st.ok()) {
    (void)db.Exec("ROLLBACK");
    return st;
  }
  return db.Exec("COMMIT");
}

Status JobHistory::StoreInTransaction(const Resource& resource, const std::vector<SpanData>& spans, int64_t now_ns) {
  sql::Db& db = db_->conn;
  auto s = db.Prepare("INSERT OR REPLACE INTO spans VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
  auto j = db.Prepare(std::string("INSERT OR REPLACE INTO jobs (") + kJobColumns + ", ok) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!s.ok() || !j.ok()) return db_->Error("prepare");
  for (const SpanData& d : spans) {
    json events = json::array();
    for (const auto& e : d.events) events.push_back({{"name", e.name}, {"time_ns", e.time_ns}, {"attributes", AttrsJson(e.attributes)}});
    s->Bind(1, ToHex(d.trace_id)).Bind(2, ToHex(d.span_id)).Bind(3, d.is_root() ? "" : ToHex(d.parent_span_id));
    s->Bind(4, d.name).Bind(5, static_cast<int64_t>(d.kind)).Bind(6, d.start_ns).Bind(7, d.end_ns);
    s->Bind(8, static_cast<int64_t>(d.status)).Bind(9, d.status_message).Bind(10, AttrsJson(d.attributes).dump());
    s->Bind(11, events.dump()).Bind(12, static_cast<int64_t>(d.dropped_events));
    if (!s->Run().ok()) return db_->Error("insert span");
    // A span is a job here when it says so (backspan.job.kind).
    if (Text(d.attributes, semconv::kJobKind).empty()) continue;
    json tags = json::array();
    if (const AttributeValue* t = FindAttribute(d.attributes, semconv::kTags))
      if (auto* arr = std::get_if<StringArray>(t)) tags = *arr;
    SpanJobAttributes attrs(d.attributes, resource.attributes);
    RootSpan root;
    root.name = d.name;
    root.start_ns = d.start_ns;
    root.end_ns = d.end_ns;
    root.error = d.status == StatusCode::kError;
    root.status_message = d.status_message;
    root.attributes = &attrs;
    const JobSummary job = SummarizeJob(root);
    j->Bind(1, ToHex(d.span_id)).Bind(2, ToHex(d.trace_id)).Bind(3, job.kind).Bind(4, job.start_ns).Bind(5, job.end_ns);
    j->Bind(6, job.status).Bind(7, job.error_type).Bind(8, job.repository).Bind(9, job.host);
    j->Bind(10, job.snapshot_id).Bind(11, job.bytes_read).Bind(12, job.bytes_added).Bind(13, job.bytes_stored);
    j->Bind(14, tags.dump()).Bind(15, static_cast<int64_t>(job.status == semconv::kJobStatusOk));
    if (!j->Run().ok()) return db_->Error("insert job");
  }
  auto old_spans = db.Prepare("DELETE FROM spans WHERE trace_id IN (SELECT trace_id FROM jobs WHERE start_ns < ?)");
  auto old_jobs = db.Prepare("DELETE FROM jobs WHERE start_ns < ?");
  if (!old_spans.ok() || !old_jobs.ok()) return db_->Error("prepare");
  RETURN_IF_ERROR(old_spans->Bind(1, now_ns - kHistoryRetentionNs).Run());
  return old_jobs->Bind(1, now_ns - kHistoryRetentionNs).Run();
}

namespace {

JobRecord JobFromRow(const sql::Stmt& s) {
  JobRecord r;
  r.job_id = s.Text(0);
  r.trace_id = s.Text(1);
  r.kind = s.Text(2);
  r.start_ns = s.Int(3);
  r.end_ns = s.Int(4);
  r.status = s.Text(5);
  r.error_type = s.Text(6);
  r.repository = s.Text(7);
  r.host = s.Text(8);
  r.snapshot_id = s.Text(9);
  r.bytes_read = s.Int(10);
  r.bytes_added = s.Int(11);
  r.bytes_stored = s.Int(12);
  json tags = json::parse(s.Text(13), nullptr, false);
  if (tags.is_array())
    for (const auto& t : tags)
      if (t.is_string()) r.tags.push_back(t.get<std::string>());
  return r;
}

bool HasTags(const JobRecord& r, const std::vector<std::string>& tags) {
  for (const auto& want : tags) {
    bool found = false;
    for (const auto& t : r.tags) found = found || t == want;
    if (!found) return false;
  }
  return true;
}

}  // namespace

Result<std::vector<JobRecord>> JobHistory::ListJobs(const JobFilter& f) {
  // "error": every job that did not end ok.
  auto s = db_->conn.Prepare(std::string("SELECT ") + kJobColumns +
                             " FROM jobs WHERE start_ns >= ?1 AND (?2 = '' OR status = ?2 OR (?2 = 'error' AND status != 'ok'))"
                             " ORDER BY start_ns DESC");
  if (!s.ok()) return db_->Error("query jobs");
  s->Bind(1, f.since_ns).Bind(2, f.status);
  std::vector<JobRecord> out;
  while (out.size() < f.limit) {
    auto row = s->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    JobRecord r = JobFromRow(*s);
    if (HasTags(r, f.tags)) out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<SpanData>> JobHistory::LoadTrace(const std::string& id_prefix, std::vector<JobRecord>* jobs) {
  for (char c : id_prefix) {
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      return Status::InvalidArgument("'" + id_prefix + "' is not a job id or trace id (hex digits)");
  }
  if (id_prefix.empty()) return Status::InvalidArgument("no job or trace id given");
  const std::string like = AsciiLower(id_prefix);
  // A job id (root span id) or a trace id; a trace may hold several jobs.
  auto q = db_->conn.Prepare(std::string("SELECT ") + kJobColumns +
                             " FROM jobs WHERE job_id LIKE ?1 || '%' OR trace_id LIKE ?1 || '%' ORDER BY start_ns");
  if (!q.ok()) return db_->Error("query jobs");
  q->Bind(1, like);
  std::vector<JobRecord> found;
  while (true) {
    auto row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    found.push_back(JobFromRow(*q));
  }
  if (found.empty()) return Status::NotFound("no job or trace " + id_prefix + " in the job history (see backspan jobs)");
  bool one_trace = true;
  for (const auto& j : found) one_trace = one_trace && j.trace_id == found[0].trace_id;
  bool exact_trace = like.size() == 32 && found[0].trace_id == like;
  if (found.size() > 1 && !exact_trace) {
    return Status::Ambiguous("'" + id_prefix + "' matches " + std::to_string(found.size()) +
                             " jobs; give more digits or the whole trace id");
  }
  if (!one_trace) return Status::Ambiguous("'" + id_prefix + "' matches several traces");
  auto stmt = db_->conn.Prepare("SELECT * FROM spans WHERE trace_id = ? ORDER BY start_ns");
  if (!stmt.ok()) return db_->Error("query spans");
  stmt->Bind(1, found[0].trace_id);
  std::vector<SpanData> spans;
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    const sql::Stmt& s = *stmt;
    SpanData d;
    d.trace_id = TraceIdFromHex(s.Text(0)).value_or(TraceId{});
    d.span_id = SpanIdFromHex(s.Text(1)).value_or(SpanId{});
    if (auto p = SpanIdFromHex(s.Text(2))) d.parent_span_id = *p;
    d.name = s.Text(3);
    d.kind = static_cast<SpanKind>(s.Int(4));
    d.start_ns = s.Int(5);
    d.end_ns = s.Int(6);
    d.status = static_cast<StatusCode>(s.Int(7));
    d.status_message = s.Text(8);
    d.attributes = AttrsFromJson(json::parse(s.Text(9), nullptr, false));
    json events = json::parse(s.Text(10), nullptr, false);
    if (events.is_array()) {
      for (const auto& e : events) {
        if (!e.is_object()) continue;
        d.events.push_back({e.value("name", ""), e.value("time_ns", int64_t{0}), AttrsFromJson(e.value("attributes", json()))});
      }
    }
    d.dropped_events = static_cast<uint32_t>(s.Int(11));
    spans.push_back(std::move(d));
  }
  if (jobs) *jobs = std::move(found);
  return spans;
}

void JobHistoryProcessor::OnEnd(SpanData span) noexcept {
  std::lock_guard<std::mutex> l(mu_);
  pending_.push_back(std::move(span));
}

Status JobHistoryProcessor::ForceFlush(int64_t) noexcept {
  std::lock_guard<std::mutex> l(mu_);
  if (pending_.empty()) return Status::Ok();
  std::vector<SpanData> spans = std::move(pending_);
  pending_.clear();
  auto history = JobHistory::Open(dir_);
  if (!history.ok()) return history.status().WithContext("the job is not recorded in the job history");
  return (*history)->Store(*resource_, spans, env_->NowUnixNanos());
}

}  // namespace backspan::trace
