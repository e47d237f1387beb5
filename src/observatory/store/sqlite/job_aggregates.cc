#include "observatory/store/sqlite/job_aggregates.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "observatory/store/sqlite/job_rows.h"

namespace backspan::observatory {
namespace {

constexpr size_t kMaxCachedSources = 100000;  // bounded memory for huge fleets

}  // namespace

std::string SourceToJson(const SourceState& s) {
  nlohmann::json tags = nlohmann::json::object();
  for (const auto& [k, v] : s.tags) tags[k] = v;
  nlohmann::json j = {{"host", s.host}, {"service", s.service}, {"paths", s.paths}, {"resource_group", s.resource_group},
                      {"tags", tags}, {"first_seen_ns", s.first_seen_ns}, {"last_job_ns", s.last_job_ns},
                      {"last_success_ns", s.last_success_ns}, {"last_status", s.last_status},
                      {"last_trace_id", s.last_trace_id}, {"jobs", s.jobs_total}, {"ok", s.success_total},
                      {"partial", s.partial_total}, {"failed", s.failed_total}, {"bytes_added", s.bytes_added_total},
                      {"duration_sum", s.duration_seconds_sum}, {"duration_buckets", s.duration_buckets},
                      {"recent_success_ns", s.recent_success_ns}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

SourceState SourceFromJson(const std::string& text) {
  SourceState s;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return s;
  auto str = [&](const char* k) { return j.value(k, std::string()); };
  auto num = [&](const char* k) { return j.value(k, int64_t{0}); };
  s.host = str("host");
  s.service = str("service");
  s.paths = str("paths");
  s.resource_group = str("resource_group");
  if (auto t = j.find("tags"); t != j.end() && t->is_object())
    for (auto it = t->begin(); it != t->end(); ++it)
      if (it.value().is_string()) s.tags.emplace_back(it.key(), it.value().get<std::string>());
  s.first_seen_ns = num("first_seen_ns");
  s.last_job_ns = num("last_job_ns");
  s.last_success_ns = num("last_success_ns");
  s.last_status = str("last_status");
  s.last_trace_id = str("last_trace_id");
  s.jobs_total = num("jobs");
  s.success_total = num("ok");
  s.partial_total = num("partial");
  s.failed_total = num("failed");
  s.bytes_added_total = num("bytes_added");
  s.duration_seconds_sum = j.value("duration_sum", 0.0);
  if (auto b = j.find("duration_buckets"); b != j.end() && b->is_array()) s.duration_buckets = b->get<std::vector<int64_t>>();
  if (auto r = j.find("recent_success_ns"); r != j.end() && r->is_array()) s.recent_success_ns = r->get<std::vector<int64_t>>();
  return s;
}

void JobAggregates::AddToRollups(const JobRecord& job, int sign) {
  const double seconds = static_cast<double>(job.end_ns - job.start_ns) / 1e9;
  auto add = [&](const std::string& key, const std::string& value) {
    for (auto [rollups, period] : {std::pair{&hourly_, kHourNs}, std::pair{&daily_, kDayNs}}) {
      RollupDelta& r = (*rollups)[RollupKey{key, job.kind, job.resource_group, value, job.start_ns / period * period}];
      r.jobs += sign;
      if (job.status == semconv::kJobStatusOk) r.ok += sign;
      else if (job.status == semconv::kJobStatusPartial) r.partial += sign;
      else r.failed += sign;
      r.duration_sum += sign * seconds;
      r.bytes_added += sign * job.bytes_added;
      r.bytes_total += sign * job.bytes_total;
      r.durations.Add(seconds, sign);
    }
  };
  add("", "");
  for (const auto& [k, v] : job.tags) add(k, v);
  counts_[{job.kind, job.status}] += sign;
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
        loaded.host = job.host;
        loaded.service = job.service;
        loaded.paths = job.source_paths;
        loaded.first_seen_ns = job.start_ns;
      }
      sel->Reset();
      cached = sources_.emplace(job.source_key, std::move(loaded)).first;
    }
    AddToSource(cached->second, job);
    dirty_sources_.insert(job.source_key);
  }
  applied_through_ = std::max(applied_through_, id);
  dirty_ = true;
  return Status::Ok();
}

void JobAggregates::AddToSource(SourceState& s, const JobRecord& job) const {
  s.resource_group = job.resource_group;
  s.tags = job.tags;
  const double seconds = static_cast<double>(job.end_ns - job.start_ns) / 1e9;
  s.jobs_total++;
  s.bytes_added_total += job.bytes_added;
  s.duration_seconds_sum += seconds;
  if (s.duration_buckets.size() != std::size(kDurationBucketsSeconds) + 1)
    s.duration_buckets.assign(std::size(kDurationBucketsSeconds) + 1, 0);
  size_t b = 0;
  while (b < std::size(kDurationBucketsSeconds) && seconds > kDurationBucketsSeconds[b]) ++b;
  s.duration_buckets[b]++;
  if (job.status == semconv::kJobStatusOk) s.success_total++;
  else if (job.status == semconv::kJobStatusPartial) s.partial_total++;
  else s.failed_total++;  // failed or interrupted: no snapshot
  // Jobs may arrive out of order (an agent's retry): the newest start decides.
  if (job.start_ns >= s.last_job_ns) {
    s.last_job_ns = job.start_ns;
    s.last_status = job.status;
    s.last_trace_id = trace::ToHex(job.trace_id);
  }
  if (job.status == semconv::kJobStatusOk || job.status == semconv::kJobStatusPartial) {
    // A partial backup still saved a snapshot: the source is backed up, with warnings.
    s.last_success_ns = std::max(s.last_success_ns, job.end_ns);
    s.recent_success_ns.push_back(job.start_ns);
    std::sort(s.recent_success_ns.begin(), s.recent_success_ns.end());
    if (s.recent_success_ns.size() > 9) s.recent_success_ns.erase(s.recent_success_ns.begin());
  }
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
  if (Status s = FlushRollups(db, kHourly, hourly_); !s.ok()) return s;
  if (Status s = FlushRollups(db, kDaily, daily_); !s.ok()) return s;
  if (Status s = FlushSources(db); !s.ok()) return s;
  sql::Stmt* count = db.Cached("INSERT INTO job_counts (kind, status, count) VALUES (?, ?, ?) "
                               "ON CONFLICT (kind, status) DO UPDATE SET count = count + excluded.count");
  if (!count) return db.Error("preparing a statement");
  for (const auto& [key, n] : counts_)
    if (Status s = count->Bind(1, key.first).Bind(2, key.second).Bind(3, n).Run(); !s.ok()) return s;
  counts_.clear();
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
  hourly_.clear();
  daily_.clear();
  counts_.clear();
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
