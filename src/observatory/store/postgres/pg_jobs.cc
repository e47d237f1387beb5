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
  bool stored = false;              // its row is written (row.id is its id)
  bool changed = false;             // a version differs from the stored one
  std::vector<Tag> stored_tags;     // the tags the stored row had
  std::vector<CountedJob> counted;  // what it adds to the aggregates
};

// Applies a job's versions in order onto `stored` (null: none): a
// duplicate of a finished job changes nothing, a running job's update or
// end replaces it, and so does a revision, whose earlier count is taken out.
void Fold(const std::vector<const JobRecord*>& versions, JobState* s, const JobRow* stored) {
  bool exists = stored != nullptr;
  if (stored) s->row = *stored;
  for (const JobRecord* j : versions) {
    bool revised_finished = false;
    if (exists && s->row.status != semconv::kJobStatusRunning) {
      if (!j->revision || SameJob(s->row, *j)) continue;  // finished jobs are final
      s->counted.push_back({s->row, -1, false});
      revised_finished = true;
    }
    const int64_t id = s->row.id;
    static_cast<JobRecord&>(s->row) = *j;
    s->row.id = id;
    s->changed = exists = true;
    // Finished: counted once (a revision's source keeps the version first counted).
    if (j->status != semconv::kJobStatusRunning) s->counted.push_back({*j, 1, !revised_finished});
  }
}

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

Status PostgresSpanStore::Impl::ApplyJobs(const std::vector<const JobRecord*>& jobs, std::vector<CountedJob>* counted) {
  if (jobs.empty()) return Status::Ok();
  // Each job's versions in this transaction, in order.
  std::map<JobKey, std::vector<const JobRecord*>> versions;
  for (const JobRecord* j : jobs) versions[KeyOf(*j)].push_back(j);
  // Most jobs are new: folded as if nothing were stored, and inserted. A
  // job some transaction stored first (a running job that ends, a
  // duplicate, a revision) conflicts, and is folded again onto its stored
  // version, locked.
  std::map<JobKey, JobState> state;
  JobColumnsArrays inserts;
  for (const auto& [key, vs] : versions) {
    JobState& s = state[key];
    Fold(vs, &s, nullptr);
    inserts.Add(s.row);
  }
  const int64_t now = env->NowUnixNanos();
  auto ids = wdb.Query(
      "INSERT INTO jobs (" + JobColumns().substr(4) + ") SELECT decode(trace_id, 'hex'), decode(span_id, 'hex'), "
      "name, kind, status, host, service, resource_group, start_ns, end_ns, bytes_added, bytes_total, files_total, "
      "error_type, error_message, snapshot_id, source_key, source_paths, tags, $20::bigint, files_changed, bytes_read, "
      "bytes_stored, deadline_ns FROM " + std::string(kUnnestJobs) +
      " ON CONFLICT (start_ns, span_id, trace_id) DO NOTHING RETURNING id, start_ns, span_id, trace_id",
      inserts.Params(now));
  if (!ids.ok()) return ids.status();
  for (int r = 0; r < ids->size(); ++r) {
    JobState& s = state[JobKey{ids->Int(r, 1), ids->Bytes(r, 2), ids->Bytes(r, 3)}];
    s.row.id = ids->Int(r, 0);
    s.stored = true;  // inserted: its fold stands
  }
  std::vector<int64_t> starts;
  std::vector<std::string> spans, traces;
  for (auto& [key, s] : state) {
    if (s.stored) continue;
    starts.push_back(std::get<0>(key));
    spans.push_back(Hex(std::get<1>(key)));
    traces.push_back(Hex(std::get<2>(key)));
  }
  std::vector<JobState*> updated;
  if (!starts.empty()) {
    auto rows = wdb.Query("SELECT " + JobColumns("j.") + " FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(s, sp, t) "
                          "JOIN jobs j ON j.start_ns = u.s AND j.span_id = decode(u.sp, 'hex') AND "
                          "j.trace_id = decode(u.t, 'hex') ORDER BY 10, 3, 2 FOR UPDATE OF j",
                          {pg::ArrayOf(starts), pg::ArrayOf(spans), pg::ArrayOf(traces)});
    if (!rows.ok()) return rows.status();
    if (rows->size() != static_cast<int>(starts.size()))
      return Status::Locked("a job another transaction was storing is gone");  // rolled back: start over
    for (int r = 0; r < rows->size(); ++r) {
      JobRow stored = ReadJob(*rows, r);
      const JobKey key = KeyOf(stored);
      JobState& s = state[key];
      s = JobState{};
      s.stored_tags = stored.tags;
      Fold(versions[key], &s, &stored);
      s.stored = true;
      if (s.changed) updated.push_back(&s);
    }
  }
  for (auto& [key, s] : state) {
    counted->insert(counted->end(), std::make_move_iterator(s.counted.begin()), std::make_move_iterator(s.counted.end()));
    s.counted.clear();
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

  // The tag index: an updated row's old tags out, every written job's in.
  std::set<Tag> tags;
  std::vector<int64_t> old_starts, old_ids;
  for (auto& [key, s] : state) {
    if (!s.changed) continue;
    tags.insert(s.row.tags.begin(), s.row.tags.end());
    if (!s.stored_tags.empty()) {
      old_starts.push_back(s.row.start_ns);
      old_ids.push_back(s.row.id);
    }
  }
  if (!old_ids.empty()) {
    auto del = wdb.Query("DELETE FROM job_tags WHERE (start_ns, job_id) IN (SELECT * FROM unnest($1::bigint[], $2::bigint[]))",
                         {pg::ArrayOf(old_starts), pg::ArrayOf(old_ids)});
    if (!del.ok()) return del.status();
  }
  if (tags.empty()) return Status::Ok();
  auto tag_ids_of = TagIds(tags);
  if (!tag_ids_of.ok()) return tag_ids_of.status();
  std::vector<int64_t> tag_col, start_col, job_col;
  for (auto& [key, s] : state) {
    if (!s.changed) continue;
    for (const Tag& t : s.row.tags) {
      tag_col.push_back(tag_ids_of->at(t));
      start_col.push_back(s.row.start_ns);
      job_col.push_back(s.row.id);
    }
  }
  auto ins = wdb.Query("INSERT INTO job_tags (tag_id, start_ns, job_id) SELECT * FROM unnest($1::bigint[], $2::bigint[], "
                       "$3::bigint[]) ON CONFLICT DO NOTHING",
                       {pg::ArrayOf(tag_col), pg::ArrayOf(start_col), pg::ArrayOf(job_col)});
  return ins.status();
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

}  // namespace backspan::observatory
