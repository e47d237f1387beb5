#include "observatory/store/postgres/schema.h"

#include <algorithm>
#include <set>

namespace backspan::observatory::postgres {
namespace {

constexpr int64_t kDayNs = 86'400'000'000'000;
// pg_advisory_xact_lock key of schema changes (a number of our own).
constexpr const char* kSchemaLock = "SELECT pg_advisory_xact_lock(7074249406009337965)";

// Version 1: the tables of the SQLite store (sqlite_span_store.cc), with
// the time-ordered ones partitioned by day.
const char kVersion1[] = R"(
CREATE TABLE span_chunks (
  id bigint GENERATED ALWAYS AS IDENTITY, trace_id bytea NOT NULL, start_ns bigint NOT NULL,
  span_count integer NOT NULL, raw_length bigint NOT NULL, body bytea NOT NULL) PARTITION BY RANGE (start_ns);
CREATE INDEX span_chunks_by_trace ON span_chunks (trace_id);
CREATE TABLE live_spans (
  span_id bytea PRIMARY KEY, trace_id bytea NOT NULL, updated_ns bigint NOT NULL, body bytea NOT NULL);
CREATE INDEX live_spans_by_trace ON live_spans (trace_id);
CREATE TABLE jobs (
  id bigint GENERATED ALWAYS AS IDENTITY, trace_id bytea NOT NULL, span_id bytea NOT NULL, name text NOT NULL,
  kind text NOT NULL, status text NOT NULL, host text NOT NULL, service text NOT NULL,
  resource_group text NOT NULL, start_ns bigint NOT NULL, end_ns bigint NOT NULL,
  bytes_added bigint NOT NULL, bytes_total bigint NOT NULL, files_total bigint NOT NULL,
  error_type text NOT NULL, error_message text NOT NULL, snapshot_id text NOT NULL,
  source_key text NOT NULL, source_paths text NOT NULL, tags text NOT NULL, updated_ns bigint NOT NULL,
  files_changed bigint NOT NULL DEFAULT 0, bytes_read bigint NOT NULL DEFAULT 0,
  bytes_stored bigint NOT NULL DEFAULT 0, deadline_ns bigint NOT NULL DEFAULT 0,
  UNIQUE (start_ns, span_id, trace_id)) PARTITION BY RANGE (start_ns);
CREATE INDEX jobs_by_kind ON jobs (kind, start_ns);
CREATE INDEX jobs_by_status ON jobs (status, start_ns);
CREATE INDEX jobs_by_span ON jobs (span_id);
CREATE TABLE tags (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, key text NOT NULL, value text NOT NULL,
  UNIQUE (key, value));
CREATE TABLE job_tags (
  tag_id bigint NOT NULL, start_ns bigint NOT NULL, job_id bigint NOT NULL,
  PRIMARY KEY (tag_id, start_ns, job_id)) PARTITION BY RANGE (start_ns);
CREATE TABLE rollups (
  tag_key text NOT NULL, hour bigint NOT NULL, kind text NOT NULL, resource_group text NOT NULL,
  tag_value text NOT NULL, jobs bigint NOT NULL, ok bigint NOT NULL, partial bigint NOT NULL,
  failed bigint NOT NULL, duration_sum double precision NOT NULL, bytes_added bigint NOT NULL,
  bytes_total bigint NOT NULL, hist bigint[] NOT NULL,
  PRIMARY KEY (tag_key, hour, kind, resource_group, tag_value));
CREATE TABLE rollups_daily (
  tag_key text NOT NULL, day bigint NOT NULL, kind text NOT NULL, resource_group text NOT NULL,
  tag_value text NOT NULL, jobs bigint NOT NULL, ok bigint NOT NULL, partial bigint NOT NULL,
  failed bigint NOT NULL, duration_sum double precision NOT NULL, bytes_added bigint NOT NULL,
  bytes_total bigint NOT NULL, hist bigint[] NOT NULL,
  PRIMARY KEY (tag_key, day, kind, resource_group, tag_value));
CREATE TABLE sources (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, key text NOT NULL UNIQUE, state text NOT NULL,
  last_job_ns bigint NOT NULL);
CREATE TABLE meta (key text PRIMARY KEY, value bigint NOT NULL);
CREATE TABLE job_counts (kind text NOT NULL, status text NOT NULL, count bigint NOT NULL, PRIMARY KEY (kind, status));
CREATE TABLE agents (name text PRIMARY KEY, sent_ns bigint NOT NULL, body text NOT NULL);
-- Two duration histograms (counts per bucket, DurationHistogram::Dense)
-- added element by element: rollups are added to in one statement.
CREATE FUNCTION backspan_hist_add(a bigint[], b bigint[]) RETURNS bigint[] IMMUTABLE PARALLEL SAFE LANGUAGE sql
  AS 'SELECT coalesce(array_agg(coalesce(x, 0) + coalesce(y, 0) ORDER BY i), ''{}'') FROM unnest(a, b) WITH ORDINALITY AS t(x, y, i)';
-- Finished jobs committed but not yet added to rollups, counters and sources
-- (counted_jobs.h): any replica adds them and deletes the row in one transaction.
CREATE TABLE aggregate_deltas (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text NOT NULL);
-- How far `backspan store copy` got, per store copied and table: resumes there.
CREATE TABLE store_copy_positions (source text NOT NULL, item text NOT NULL, position bigint NOT NULL,
  PRIMARY KEY (source, item));
)";

// Version 2: rollups are read, added to in the server and written back
// whole (pg_aggregates.cc), so SQL no longer adds histograms; their pages
// keep room for updates that stay on the page (HOT: no index entry each);
// and the documents and queues replicas share.
const char kVersion2[] = R"(
DROP FUNCTION backspan_hist_add(bigint[], bigint[]);
ALTER TABLE rollups SET (fillfactor = 70);
ALTER TABLE rollups_daily SET (fillfactor = 70);
ALTER TABLE job_counts SET (fillfactor = 50);
ALTER TABLE sources SET (fillfactor = 70);
-- What replicas share (shared_state.h): documents and queues.
CREATE TABLE documents (name text PRIMARY KEY, body text NOT NULL, version bigint NOT NULL, updated_ns bigint NOT NULL);
CREATE TABLE queued (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, queue text NOT NULL, body text NOT NULL);
)";

struct Migration {
  int version;
  const char* sql;
};
constexpr Migration kMigrations[] = {{1, kVersion1}, {2, kVersion2}};
static_assert(kMigrations[std::size(kMigrations) - 1].version == kSchemaVersion);

std::string PartitionName(const char* table, int64_t day) { return std::string(table) + "_d" + std::to_string(day); }

// Runs `body` in a transaction holding the schema lock.
template <typename Fn>
Status Locked(pg::Connection& db, Fn body) {
  if (Status s = db.Exec(std::string("BEGIN; ") + kSchemaLock); !s.ok()) {
    (void)db.Exec("ROLLBACK");
    return s;
  }
  Status s = body();
  if (!s.ok()) {
    (void)db.Exec("ROLLBACK");
    return s;
  }
  return db.Exec("COMMIT");
}

}  // namespace

int64_t DayOf(int64_t ns) { return ns >= 0 ? ns / kDayNs : -((-ns + kDayNs - 1) / kDayNs); }
int64_t DayStartNs(int64_t day) { return day * kDayNs; }

Result<int> SchemaVersion(pg::Connection& db) {
  auto exists = db.QueryInt("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'backspan_schema'");
  if (!exists.ok()) return exists.status();
  if (*exists == 0) return 0;
  auto v = db.QueryInt("SELECT coalesce(max(version), 0) FROM backspan_schema");
  if (!v.ok()) return v.status();
  return static_cast<int>(*v);
}

Status Migrate(pg::Connection& db) {
  // Quick path: nothing to do, no lock taken.
  if (auto v = SchemaVersion(db); v.ok() && *v == kSchemaVersion) return Status::Ok();
  return Locked(db, [&]() -> Status {
    // Again under the lock: another replica may have just done it.
    if (Status s = db.Exec("CREATE TABLE IF NOT EXISTS backspan_schema ("
                           "version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
        !s.ok())
      return s;
    auto v = SchemaVersion(db);
    if (!v.ok()) return v.status();
    if (*v > kSchemaVersion)
      return Status::Unsupported("the database's schema is version " + std::to_string(*v) +
                                 ", written by a newer backspan; this one knows up to " + std::to_string(kSchemaVersion));
    for (const Migration& m : kMigrations) {
      if (m.version <= *v) continue;
      if (Status s = db.Exec(m.sql); !s.ok()) return s;
      auto done = db.Query("INSERT INTO backspan_schema (version) VALUES ($1)", {std::to_string(m.version)});
      if (!done.ok()) return done.status();
    }
    return Status::Ok();
  });
}

Result<std::vector<int64_t>> StoredDays(pg::Connection& db) {
  // Partitions of the first daily table (all of them get the same days).
  auto rows = db.Query(
      "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
      "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = $1 AND p.relnamespace = current_schema()::regnamespace",
      {std::string(kDailyTables[0])});
  if (!rows.ok()) return rows.status();
  std::vector<int64_t> days;
  const std::string prefix = std::string(kDailyTables[0]) + "_d";
  for (int r = 0; r < rows->size(); ++r) {
    const std::string_view name = rows->Text(r, 0);
    if (name.substr(0, prefix.size()) == prefix) days.push_back(std::stoll(std::string(name.substr(prefix.size()))));
  }
  std::sort(days.begin(), days.end());
  return days;
}

Status EnsureDays(pg::Connection& db, const std::set<int64_t>& days) {
  if (days.empty()) return Status::Ok();
  if (*days.begin() < 0) return Status::InvalidArgument("a time before 1970 has no partition");
  auto have = StoredDays(db);
  if (!have.ok()) return have.status();
  const std::set<int64_t> known(have->begin(), have->end());
  std::vector<int64_t> missing;
  for (int64_t d : days)
    if (!known.count(d)) missing.push_back(d);
  if (missing.empty()) return Status::Ok();
  return Locked(db, [&]() -> Status {
    for (int64_t d : missing)
      for (const char* table : kDailyTables) {
        const std::string sql = "CREATE TABLE IF NOT EXISTS " + PartitionName(table, d) + " PARTITION OF " + table +
                                " FOR VALUES FROM (" + std::to_string(DayStartNs(d)) + ") TO (" +
                                std::to_string(DayStartNs(d + 1)) + ")";
        if (Status s = db.Exec(sql); !s.ok()) return s;
      }
    return Status::Ok();
  });
}

Status EnsureDays(pg::Connection& db, int64_t first_day, int64_t last_day) {
  if (first_day < 0) return Status::InvalidArgument("a time before 1970 has no partition");
  std::set<int64_t> days;
  for (int64_t d = first_day; d <= last_day; ++d) days.insert(d);
  return EnsureDays(db, days);
}

Result<int64_t> DropDaysBefore(pg::Connection& db, int64_t cutoff_ns) {
  auto have = StoredDays(db);
  if (!have.ok()) return have.status();
  std::vector<int64_t> old;
  for (int64_t d : *have)
    if (DayStartNs(d + 1) <= cutoff_ns) old.push_back(d);
  if (old.empty()) return int64_t{0};
  Status s = Locked(db, [&]() -> Status {
    for (int64_t d : old)
      for (const char* table : kDailyTables)
        if (Status st = db.Exec("DROP TABLE IF EXISTS " + PartitionName(table, d)); !st.ok()) return st;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return static_cast<int64_t>(old.size());
}

}  // namespace backspan::observatory::postgres
