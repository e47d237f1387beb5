// The jobs of a transaction and what they derive, written in the same
// transaction: rows locked, so that replicas writing the same job at once
// see each other's version (the write rule and "finished is final" hold
// across replicas), and rollups, counters and sources added to under row
// locks taken in one order, so two replicas never lose or double-count a
// job and never deadlock on them.
#include <algorithm>
#include <map>
#include <tuple>

#include "observatory/store/job_fields.h"
#include "observatory/store/job_list_sql.h"
#include "observatory/store/postgres/postgres_span_store_impl.h"
#include "observatory/store/source_state.h"
#include "trace/semconv.h"

namespace backspan::observatory {
namespace {

using JobKey = std::tuple<int64_t, std::string, std::string>;  // start_ns, span id, trace id (bytes)

JobKey KeyOf(const JobRecord& j) { return {j.start_ns, trace::IdBytes(j.span_id), trace::IdBytes(j.trace_id)}; }

// A job as this transaction leaves it.
struct JobState {
  JobRow row;
  bool stored = false;              // a row exists (row.id is its id)
  bool changed = false;             // to be written
  std::vector<Tag> stored_tags;     // the tags the stored row had
};

// The parameters of the jobs' columns after id, for unnest.
struct JobColumnsArrays {
  std::vector<std::string> trace_id, span_id, name, kind, status, host, service, resource_group, error_type,
      error_message, snapshot_id, source_key, source_paths, tags;
  std::vector<int64_t> start_ns, end_ns, bytes_added, bytes_total, files_total, files_changed, bytes_read,
      bytes_stored, deadline_ns;
  void Add(const JobRecord& j) {
    trace_id.push_back(Hex(trace::IdBytes(j.trace_id)));
    span_id.push_back(Hex(trace::IdBytes(j.span_id)));
    name.push_back(j.name);
    kind.push_back(j.kind);
    status.push_back(j.status);
    host.push_back(j.host);
    service.push_back(j.service);
    resource_group.push_back(j.resource_group);
    error_type.push_back(j.error_type);
    error_message.push_back(j.error_message);
    snapshot_id.push_back(j.snapshot_id);
    source_key.push_back(j.source_key);
    source_paths.push_back(j.source_paths);
    tags.push_back(TagsToJson(j.tags));
    start_ns.push_back(j.start_ns);
    end_ns.push_back(j.end_ns);
    bytes_added.push_back(j.bytes_added);
    bytes_total.push_back(j.bytes_total);
    files_total.push_back(j.files_total);
    files_changed.push_back(j.files_changed);
    bytes_read.push_back(j.bytes_read);
    bytes_stored.push_back(j.bytes_stored);
    deadline_ns.push_back(j.deadline_ns);
  }
  std::vector<pg::Param> Params(int64_t now) const {
    return {pg::ArrayOf(trace_id),    pg::ArrayOf(span_id),       pg::ArrayOf(name),         pg::ArrayOf(kind),
            pg::ArrayOf(status),      pg::ArrayOf(host),          pg::ArrayOf(service),      pg::ArrayOf(resource_group),
            pg::ArrayOf(start_ns),    pg::ArrayOf(end_ns),        pg::ArrayOf(bytes_added),  pg::ArrayOf(bytes_total),
            pg::ArrayOf(files_total), pg::ArrayOf(error_type),    pg::ArrayOf(error_message), pg::ArrayOf(snapshot_id),
            pg::ArrayOf(source_key),  pg::ArrayOf(source_paths),  pg::ArrayOf(tags),         std::to_string(now),
            pg::ArrayOf(files_changed), pg::ArrayOf(bytes_read),  pg::ArrayOf(bytes_stored), pg::ArrayOf(deadline_ns)};
  }
};

// unnest of JobColumnsArrays::Params as u(...), in JobColumns() order after id.
constexpr const char* kUnnestJobs =
    "unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], "
    "$9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::text[], $15::text[], $16::text[], "
    "$17::text[], $18::text[], $19::text[], $21::bigint[], $22::bigint[], $23::bigint[], $24::bigint[]) "
    "AS u(trace_id, span_id, name, kind, status, host, service, resource_group, start_ns, end_ns, bytes_added, "
    "bytes_total, files_total, error_type, error_message, snapshot_id, source_key, source_paths, tags, files_changed, "
    "bytes_read, bytes_stored, deadline_ns)";

}  // namespace

Status PostgresSpanStore::Impl::ApplyJobs(const std::vector<const JobRecord*>& jobs) {
  if (jobs.empty()) return Status::Ok();
  // The stored versions, locked until the commit.
  std::map<JobKey, JobState> state;
  {
    std::vector<int64_t> starts;
    std::vector<std::string> spans, traces;
    for (const JobRecord* j : jobs) {
      if (state.count(KeyOf(*j))) continue;
      state[KeyOf(*j)];
      starts.push_back(j->start_ns);
      spans.push_back(Hex(trace::IdBytes(j->span_id)));
      traces.push_back(Hex(trace::IdBytes(j->trace_id)));
    }
    auto rows = wdb.Query("SELECT " + JobColumns() + " FROM jobs WHERE (start_ns, span_id, trace_id) IN "
                          "(SELECT s, decode(sp, 'hex'), decode(t, 'hex') FROM unnest($1::bigint[], $2::text[], $3::text[]) "
                          "AS u(s, sp, t)) ORDER BY start_ns, span_id, trace_id FOR UPDATE",
                          {pg::ArrayOf(starts), pg::ArrayOf(spans), pg::ArrayOf(traces)});
    if (!rows.ok()) return rows.status();
    for (int r = 0; r < rows->size(); ++r) {
      JobRow row = ReadJob(*rows, r);
      JobState& s = state[KeyOf(row)];
      s.stored = true;
      s.stored_tags = row.tags;
      s.row = std::move(row);
    }
  }
  // Each job in order against the version before it: a duplicate, a running
  // job's update or end, or a revision.
  AggregateDeltas deltas;
  std::vector<JobRecord> to_sources;
  for (const JobRecord* j : jobs) {
    JobState& s = state[KeyOf(*j)];
    const bool exists = s.stored || s.changed;
    bool revised_finished = false;
    if (exists && s.row.status != semconv::kJobStatusRunning) {
      if (!j->revision || SameJob(s.row, *j)) continue;  // finished jobs are final
      deltas.Add(s.row, -1);  // the version counted goes out before the new one comes in
      revised_finished = true;
    }
    const int64_t id = s.row.id;
    static_cast<JobRecord&>(s.row) = *j;
    s.row.id = id;
    s.changed = true;
    if (j->status == semconv::kJobStatusRunning) continue;
    // Finished: counted once (a revision's source keeps the version first counted).
    deltas.Add(*j, 1);
    if (!revised_finished && !j->source_key.empty()) to_sources.push_back(*j);
  }

  const int64_t now = env->NowUnixNanos();
  JobColumnsArrays inserts;
  std::vector<JobState*> inserted, updated;
  for (auto& [key, s] : state) {
    if (!s.changed) continue;
    if (s.stored) {
      updated.push_back(&s);
      continue;
    }
    inserts.Add(s.row);
    inserted.push_back(&s);
  }
  if (!inserted.empty()) {
    auto ids = wdb.Query(
        "INSERT INTO jobs (" + JobColumns().substr(4) + ") SELECT decode(trace_id, 'hex'), decode(span_id, 'hex'), "
        "name, kind, status, host, service, resource_group, start_ns, end_ns, bytes_added, bytes_total, files_total, "
        "error_type, error_message, snapshot_id, source_key, source_paths, tags, $20::bigint, files_changed, bytes_read, "
        "bytes_stored, deadline_ns FROM " + std::string(kUnnestJobs) +
        " ON CONFLICT (start_ns, span_id, trace_id) DO NOTHING RETURNING id, start_ns, span_id, trace_id",
        inserts.Params(now));
    if (!ids.ok()) return ids.status();
    // Another replica stored one of them since it was looked up: start over
    // (the retry finds it stored).
    if (ids->size() != static_cast<int>(inserted.size()))
      return Status::Locked("another replica stored one of the jobs at the same time");
    for (int r = 0; r < ids->size(); ++r) {
      const JobKey key{ids->Int(r, 1), ids->Bytes(r, 2), ids->Bytes(r, 3)};
      state[key].row.id = ids->Int(r, 0);
    }
  }
  for (JobState* s : updated) {
    JobColumnsArrays one;
    one.Add(s->row);
    std::vector<pg::Param> params = one.Params(now);
    params.push_back(std::to_string(s->row.id));
    auto up = wdb.Query(
        "UPDATE jobs j SET name = u.name, kind = u.kind, status = u.status, host = u.host, service = u.service, "
        "resource_group = u.resource_group, end_ns = u.end_ns, bytes_added = u.bytes_added, bytes_total = u.bytes_total, "
        "files_total = u.files_total, error_type = u.error_type, error_message = u.error_message, "
        "snapshot_id = u.snapshot_id, source_key = u.source_key, source_paths = u.source_paths, tags = u.tags, "
        "updated_ns = $20::bigint, files_changed = u.files_changed, bytes_read = u.bytes_read, bytes_stored = u.bytes_stored, "
        "deadline_ns = u.deadline_ns FROM " + std::string(kUnnestJobs) +
        " WHERE j.id = $25 AND j.start_ns = u.start_ns",
        params);
    if (!up.ok()) return up.status();
  }

  // The tag index: the stored rows' old tags out, every written job's in.
  std::set<Tag> tags;
  std::vector<int64_t> old_starts, old_ids;
  for (auto& [key, s] : state) {
    if (!s.changed) continue;
    tags.insert(s.row.tags.begin(), s.row.tags.end());
    if (s.stored && !s.stored_tags.empty()) {
      old_starts.push_back(s.row.start_ns);
      old_ids.push_back(s.row.id);
    }
  }
  if (!old_ids.empty()) {
    auto del = wdb.Query("DELETE FROM job_tags WHERE (start_ns, job_id) IN (SELECT * FROM unnest($1::bigint[], $2::bigint[]))",
                         {pg::ArrayOf(old_starts), pg::ArrayOf(old_ids)});
    if (!del.ok()) return del.status();
  }
  if (!tags.empty()) {
    auto ids = TagIds(tags);
    if (!ids.ok()) return ids.status();
    std::vector<int64_t> tag_col, start_col, job_col;
    for (auto& [key, s] : state) {
      if (!s.changed) continue;
      for (const Tag& t : s.row.tags) {
        tag_col.push_back(ids->at(t));
        start_col.push_back(s.row.start_ns);
        job_col.push_back(s.row.id);
      }
    }
    auto ins = wdb.Query("INSERT INTO job_tags (tag_id, start_ns, job_id) SELECT * FROM unnest($1::bigint[], $2::bigint[], "
                         "$3::bigint[]) ON CONFLICT DO NOTHING",
                         {pg::ArrayOf(tag_col), pg::ArrayOf(start_col), pg::ArrayOf(job_col)});
    if (!ins.ok()) return ins.status();
  }
  if (deltas.empty()) return Status::Ok();
  RETURN_IF_ERROR(FlushRollups("rollups", "hour", deltas.hourly));
  RETURN_IF_ERROR(FlushRollups("rollups_daily", "day", deltas.daily));
  RETURN_IF_ERROR(FlushCounts(deltas));
  return FlushSources(to_sources);
}

Result<std::map<Tag, int64_t>> PostgresSpanStore::Impl::TagIds(const std::set<Tag>& tags) {
  std::map<Tag, int64_t> out;
  std::vector<std::string> keys, values;
  for (const Tag& t : tags) {
    if (auto it = tag_ids.find(t); it != tag_ids.end()) {
      out.emplace(t, it->second);
      continue;
    }
    keys.push_back(t.first);
    values.push_back(t.second);
  }
  if (keys.empty()) return out;
  const std::vector<pg::Param> params = {pg::ArrayOf(keys), pg::ArrayOf(values)};
  auto ins = wdb.Query("INSERT INTO tags (key, value) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING", params);
  if (!ins.ok()) return ins.status();
  auto rows = wdb.Query("SELECT id, key, value FROM tags WHERE (key, value) IN (SELECT * FROM unnest($1::text[], $2::text[]))", params);
  if (!rows.ok()) return rows.status();
  if (tag_ids.size() > 200000) tag_ids.clear();  // bounded memory for high-cardinality tags
  for (int r = 0; r < rows->size(); ++r) {
    Tag t{std::string(rows->Text(r, 1)), std::string(rows->Text(r, 2))};
    tag_ids[t] = rows->Int(r, 0);
    out[t] = rows->Int(r, 0);
  }
  // A tag with a NUL, which text cannot hold, is stored without it.
  for (const Tag& t : tags)
    if (!out.count(t)) return Status::InvalidArgument("tag " + t.first + " cannot be stored");
  return out;
}

Status PostgresSpanStore::Impl::FlushRollups(const char* table, const char* period, const Rollups& rollups) {
  if (rollups.empty()) return Status::Ok();
  // Rows made if missing and locked, in the map's order (every replica's):
  // what they hold comes back to be added to.
  std::vector<std::string> keys, kinds, groups, values;
  std::vector<int64_t> starts;
  for (const auto& [k, d] : rollups) {
    keys.push_back(k.tag_key);
    starts.push_back(k.start);
    kinds.push_back(k.kind);
    groups.push_back(k.resource_group);
    values.push_back(k.tag_value);
  }
  const std::string t = table, p = period;
  auto rows = wdb.Query(
      "INSERT INTO " + t + " (tag_key, " + p + ", kind, resource_group, tag_value, jobs, ok, partial, failed, duration_sum, "
      "bytes_added, bytes_total, hist) SELECT k, s, kd, rg, v, 0, 0, 0, 0, 0, 0, 0, ''::bytea "
      "FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[]) AS u(k, s, kd, rg, v) "
      "ON CONFLICT (tag_key, " + p + ", kind, resource_group, tag_value) DO UPDATE SET jobs = " + t + ".jobs "
      "RETURNING tag_key, " + p + ", kind, resource_group, tag_value, jobs, ok, partial, failed, duration_sum, "
      "bytes_added, bytes_total, hist",
      {pg::ArrayOf(keys), pg::ArrayOf(starts), pg::ArrayOf(kinds), pg::ArrayOf(groups), pg::ArrayOf(values)});
  if (!rows.ok()) return rows.status();
  Rollups sum = rollups;
  for (int r = 0; r < rows->size(); ++r) {
    auto it = sum.find(RollupKey{std::string(rows->Text(r, 0)), std::string(rows->Text(r, 2)), std::string(rows->Text(r, 3)),
                                 std::string(rows->Text(r, 4)), rows->Int(r, 1)});
    if (it == sum.end()) continue;
    RollupDelta& d = it->second;
    d.jobs += rows->Int(r, 5);
    d.ok += rows->Int(r, 6);
    d.partial += rows->Int(r, 7);
    d.failed += rows->Int(r, 8);
    d.duration_sum += rows->Double(r, 9);
    d.bytes_added += rows->Int(r, 10);
    d.bytes_total += rows->Int(r, 11);
    d.durations.MergeEncoded(rows->Bytes(r, 12));
  }
  std::vector<int64_t> jobs, ok, partial, failed, bytes_added, bytes_total;
  std::vector<double> durations;
  std::vector<std::string> hist;
  for (const auto& [k, d] : sum) {
    jobs.push_back(d.jobs);
    ok.push_back(d.ok);
    partial.push_back(d.partial);
    failed.push_back(d.failed);
    durations.push_back(d.duration_sum);
    bytes_added.push_back(d.bytes_added);
    bytes_total.push_back(d.bytes_total);
    hist.push_back(Hex(d.durations.Encode()));
  }
  auto up = wdb.Query(
      "UPDATE " + t + " r SET jobs = u.j, ok = u.o, partial = u.p, failed = u.f, duration_sum = u.d, bytes_added = u.ba, "
      "bytes_total = u.bt, hist = decode(u.h, 'hex') FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], "
      "$5::text[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::float8[], $11::bigint[], $12::bigint[], "
      "$13::text[]) AS u(k, s, kd, rg, v, j, o, p, f, d, ba, bt, h) WHERE r.tag_key = u.k AND r." + p + " = u.s AND "
      "r.kind = u.kd AND r.resource_group = u.rg AND r.tag_value = u.v",
      {pg::ArrayOf(keys), pg::ArrayOf(starts), pg::ArrayOf(kinds), pg::ArrayOf(groups), pg::ArrayOf(values),
       pg::ArrayOf(jobs), pg::ArrayOf(ok), pg::ArrayOf(partial), pg::ArrayOf(failed), pg::ArrayOf(durations),
       pg::ArrayOf(bytes_added), pg::ArrayOf(bytes_total), pg::ArrayOf(hist)});
  return up.status();
}

Status PostgresSpanStore::Impl::FlushCounts(const AggregateDeltas& deltas) {
  std::vector<std::string> kinds, statuses;
  std::vector<int64_t> counts;
  for (const auto& [key, n] : deltas.counts) {
    kinds.push_back(key.first);
    statuses.push_back(key.second);
    counts.push_back(n);
  }
  auto up = wdb.Query("INSERT INTO job_counts (kind, status, count) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) "
                      "ON CONFLICT (kind, status) DO UPDATE SET count = job_counts.count + excluded.count",
                      {pg::ArrayOf(kinds), pg::ArrayOf(statuses), pg::ArrayOf(counts)});
  return up.status();
}

Status PostgresSpanStore::Impl::FlushSources(const std::vector<JobRecord>& jobs) {
  if (jobs.empty()) return Status::Ok();
  std::map<std::string, std::vector<const JobRecord*>> by_source;  // in key order: every replica locks in it
  for (const JobRecord& j : jobs) by_source[j.source_key].push_back(&j);
  std::vector<std::string> keys;
  for (const auto& [key, js] : by_source) keys.push_back(key);
  // Rows made if missing ('' state: new) and locked; their states come back.
  auto rows = wdb.Query("INSERT INTO sources (key, state, last_job_ns) SELECT k, '', 0 FROM unnest($1::text[]) AS k "
                        "ON CONFLICT (key) DO UPDATE SET last_job_ns = sources.last_job_ns RETURNING id, key, state",
                        {pg::ArrayOf(keys)});
  if (!rows.ok()) return rows.status();
  std::vector<int64_t> ids, last;
  std::vector<std::string> states;
  for (int r = 0; r < rows->size(); ++r) {
    auto it = by_source.find(std::string(rows->Text(r, 1)));
    if (it == by_source.end()) continue;
    const std::string_view stored = rows->Text(r, 2);
    SourceState s = stored.empty() ? NewSource(*it->second.front()) : SourceFromJson(std::string(stored));
    for (const JobRecord* j : it->second) AddJobToSource(s, *j);
    ids.push_back(rows->Int(r, 0));
    states.push_back(SourceToJson(s));
    last.push_back(s.last_job_ns);
  }
  auto up = wdb.Query("UPDATE sources s SET state = u.st, last_job_ns = u.l FROM unnest($1::bigint[], $2::text[], "
                      "$3::bigint[]) AS u(id, st, l) WHERE s.id = u.id",
                      {pg::ArrayOf(ids), pg::ArrayOf(states), pg::ArrayOf(last)});
  return up.status();
}

}  // namespace backspan::observatory
