#include "observatory/store/sqlite/job_aggregates.h"

#include <algorithm>

#include "observatory/store/sqlite/job_rows.h"

namespace backspan::observatory {
namespace {

constexpr size_t kMaxCachedSources = 100000;  // bounded memory for huge fleets

}  // namespace

void JobAggregates::AddToRollups(const JobRecord& job, int sign) {
  deltas_.Add(job, sign);
  dirty_ = true;
}

Status JobAggregates::Remove(const JobRecord& job, int64_t id) {
  // What a crash would lose of this must be written with this commit: a
  // replay only re-adds jobs newer than the watermark.
  if (id <= watermark_) must_flush_ = true;
  AddToRollups(job, -1);
  return Status::Ok();
}

Status JobAggregates::Add(sql::Db& db, const JobRecord& job, int64_t id, bool to_source) {
  if (id <= watermark_) must_flush_ = true;
  AddToRollups(job, 1);

  if (to_source && !job.source_key.empty()) {
    auto cached = sources_.find(job.source_key);
    if (cached == sources_.end()) {
      if (sources_.size() >= kMaxCachedSources) {
        // Everything added so far goes out with its watermark, so dropping the cache loses nothing.
        if (Status st = Flush(db); !st.ok()) return st;
        sources_.clear();
      }
      sql::Stmt* sel = db.Cached("SELECT id, state FROM sources WHERE key = ?");
      if (!sel) return db.Error("preparing a statement");
      sel->Bind(1, job.source_key);
      auto row = sel->Step();
      if (!row.ok()) return row.status();
      SourceState loaded;
      if (*row) {
        loaded = SourceFromJson(sel->Text(1));
        loaded.id = sel->Int(0);
      } else {
        loaded = NewSource(job);
      }
      sel->Reset();
      cached = sources_.emplace(job.source_key, std::move(loaded)).first;
    }
    AddJobToSource(cached->second, job);
    dirty_sources_.insert(job.source_key);
  }
  applied_through_ = std::max(applied_through_, id);
  dirty_ = true;
  return Status::Ok();
}

const JobAggregates::RollupTable JobAggregates::kHourly = {
    "SELECT jobs, ok, partial, failed, duration_sum, bytes_added, bytes_total, hist FROM rollups "
    "WHERE tag_key = ? AND hour = ? AND kind = ? AND resource_group = ? AND tag_value = ?",
    "INSERT OR REPLACE INTO rollups (tag_key, hour, kind, resource_group, tag_value, jobs, ok, "
    "partial, failed, duration_sum, bytes_added, bytes_total, hist) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"};
const JobAggregates::RollupTable JobAggregates::kDaily = {
    "SELECT jobs, ok, partial, failed, duration_sum, bytes_added, bytes_total, hist FROM rollups_daily "
    "WHERE tag_key = ? AND day = ? AND kind = ? AND resource_group = ? AND tag_value = ?",
    "INSERT OR REPLACE INTO rollups_daily (tag_key, day, kind, resource_group, tag_value, jobs, ok, "
    "partial, failed, duration_sum, bytes_added, bytes_total, hist) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"};

Status JobAggregates::Flush(sql::Db& db) {
  if (Status s = FlushRollups(db, kHourly, deltas_.hourly); !s.ok()) return s;
  if (Status s = FlushRollups(db, kDaily, deltas_.daily); !s.ok()) return s;
  if (Status s = FlushSources(db); !s.ok()) return s;
  sql::Stmt* count = db.Cached("INSERT INTO job_counts (kind, status, count) VALUES (?, ?, ?) "
                               "ON CONFLICT (kind, status) DO UPDATE SET count = count + excluded.count");
  if (!count) return db.Error("preparing a statement");
  for (const auto& [key, n] : deltas_.counts)
    if (Status s = count->Bind(1, key.first).Bind(2, key.second).Bind(3, n).Run(); !s.ok()) return s;
  deltas_.counts.clear();
  if (Status s = WriteWatermark(db, std::max(applied_through_, watermark_)); !s.ok()) return s;
  dirty_ = must_flush_ = false;
  return Status::Ok();
}

Status JobAggregates::FlushRollups(sql::Db& db, const RollupTable& table, Rollups& rollups) {
  if (rollups.empty()) return Status::Ok();
  sql::Stmt* sel = db.Cached(table.select);
  sql::Stmt* put = db.Cached(table.put);
  if (!sel || !put) return db.Error("preparing a statement");
  for (auto& [key, r] : rollups) {
    sel->Bind(1, key.tag_key).Bind(2, key.start).Bind(3, key.kind).Bind(4, key.resource_group).Bind(5, key.tag_value);
    auto row = sel->Step();
    if (!row.ok()) return row.status();
    if (*row) {
      r.jobs += sel->Int(0);
      r.ok += sel->Int(1);
      r.partial += sel->Int(2);
      r.failed += sel->Int(3);
      r.duration_sum += sel->Double(4);
      r.bytes_added += sel->Int(5);
      r.bytes_total += sel->Int(6);
      r.durations.MergeEncoded(sel->Blob(7));
    }
    sel->Reset();
    const std::string hist = r.durations.Encode();
    put->Bind(1, key.tag_key).Bind(2, key.start).Bind(3, key.kind).Bind(4, key.resource_group).Bind(5, key.tag_value)
        .Bind(6, r.jobs).Bind(7, r.ok).Bind(8, r.partial).Bind(9, r.failed).Bind(10, r.duration_sum)
        .Bind(11, r.bytes_added).Bind(12, r.bytes_total).BindBlob(13, hist.data(), hist.size());
    if (Status s = put->Run(); !s.ok()) return s;
  }
  rollups.clear();
  return Status::Ok();
}

Status JobAggregates::FlushSources(sql::Db& db) {
  sql::Stmt* update = db.Cached("UPDATE sources SET state = ?2, last_job_ns = ?3 WHERE id = ?1");
  sql::Stmt* insert = db.Cached("INSERT INTO sources (key, state, last_job_ns) VALUES (?1, ?2, ?3)");
  if (!update || !insert) return db.Error("preparing a statement");
  for (const std::string& key : dirty_sources_) {
    SourceState& s = sources_.at(key);
    sql::Stmt* put = s.id ? update : insert;
    if (s.id) put->Bind(1, s.id);
    else put->Bind(1, key);
    if (Status st = put->Bind(2, SourceToJson(s)).Bind(3, s.last_job_ns).Run(); !st.ok()) return st;
    if (!s.id) s.id = db.LastInsertRowid();
  }
  dirty_sources_.clear();
  return Status::Ok();
}

void JobAggregates::Forget() {
  deltas_.Clear();
  sources_.clear();
  dirty_sources_.clear();
  applied_through_ = watermark_;
  dirty_ = must_flush_ = false;
}

Status JobAggregates::Recover(sql::Db& db) {
  auto mark = db.QueryInt("SELECT coalesce((SELECT value FROM meta WHERE key = 'aggregates_through'), 0)");
  if (!mark.ok()) return mark.status();
  watermark_ = applied_through_ = *mark;
  Where after;
  after.Add("id > " + after.Param(*mark));
  after.Add("status != 'running'");
  Status add_status;
  Status st = ForEachRow(db, "SELECT " + JobColumns() + " FROM jobs" + after.Sql() + " ORDER BY id", &after,
                         [&](sql::Stmt& row) {
                           JobRow job = ReadJob(row);
                           add_status = Add(db, job, job.id);
                           return add_status.ok();
                         });
  if (!st.ok()) return st;
  if (!add_status.ok()) return add_status;
  must_flush_ = dirty_;
  return Status::Ok();
}

Status JobAggregates::ResetWatermark(sql::Db& db) {
  auto newest = db.QueryInt("SELECT coalesce(max(id), 0) FROM jobs");
  if (!newest.ok()) return newest.status();
  if (*newest >= watermark_) return Status::Ok();
  applied_through_ = *newest;
  return WriteWatermark(db, *newest);
}

Status JobAggregates::WriteWatermark(sql::Db& db, int64_t through) {
  sql::Stmt* mark = db.Cached("INSERT OR REPLACE INTO meta (key, value) VALUES ('aggregates_through', ?)");
  if (!mark) return db.Error("preparing a statement");
  if (Status s = mark->Bind(1, through).Run(); !s.ok()) return s;
  watermark_ = through;
  return Status::Ok();
}

}  // namespace backspan::observatory
