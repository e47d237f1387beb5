#include "observatory/store/postgres/pg_job_rows.h"

#include <algorithm>

#include "observatory/store/job_fields.h"
#include "observatory/store/job_list_sql.h"
#include "observatory/store/postgres/postgres_span_store_impl.h"

namespace backspan::observatory {
namespace {

// The parameters of the jobs' columns after id, for unnest.
struct JobColumnsArrays {
  std::vector<std::string> trace_id, span_id, name, kind, status, host, service, resource_group, error_type,
      error_message, snapshot_id, source_key, source_paths, tags;
  std::vector<int64_t> start_ns, end_ns, bytes_added, bytes_total, files_total, files_changed, bytes_read,
      bytes_stored, deadline_ns;
  std::vector<int64_t> updated_ns;
  void Add(const JobRecord& j, int64_t updated) {
    updated_ns.push_back(updated);
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
  std::vector<pg::Param> Params() const {
    return {pg::ArrayOf(trace_id),    pg::ArrayOf(span_id),       pg::ArrayOf(name),         pg::ArrayOf(kind),
            pg::ArrayOf(status),      pg::ArrayOf(host),          pg::ArrayOf(service),      pg::ArrayOf(resource_group),
            pg::ArrayOf(start_ns),    pg::ArrayOf(end_ns),        pg::ArrayOf(bytes_added),  pg::ArrayOf(bytes_total),
            pg::ArrayOf(files_total), pg::ArrayOf(error_type),    pg::ArrayOf(error_message), pg::ArrayOf(snapshot_id),
            pg::ArrayOf(source_key),  pg::ArrayOf(source_paths),  pg::ArrayOf(tags),         pg::ArrayOf(updated_ns),
            pg::ArrayOf(files_changed), pg::ArrayOf(bytes_read),  pg::ArrayOf(bytes_stored), pg::ArrayOf(deadline_ns)};
  }
};

// unnest of JobColumnsArrays::Params as u(...), in JobColumns() order after id.
constexpr const char* kUnnestJobs =
    "unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], "
    "$9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::text[], $15::text[], $16::text[], "
    "$17::text[], $18::text[], $19::text[], $20::bigint[], $21::bigint[], $22::bigint[], $23::bigint[], $24::bigint[]) "
    "AS u(trace_id, span_id, name, kind, status, host, service, resource_group, start_ns, end_ns, bytes_added, "
    "bytes_total, files_total, error_type, error_message, snapshot_id, source_key, source_paths, tags, updated_ns, "
    "files_changed, bytes_read, bytes_stored, deadline_ns)";

// tags.id of each tag, adding those never seen.
Result<std::map<Tag, int64_t>> TagIds(pg::Connection& db, std::map<Tag, int64_t>* cache, const std::set<Tag>& tags) {
  std::map<Tag, int64_t> out;
  std::vector<std::string> keys, values;
  for (const Tag& t : tags) {
    if (auto it = cache->find(t); it != cache->end()) {
      out.emplace(t, it->second);
      continue;
    }
    keys.push_back(t.first);
    values.push_back(t.second);
  }
  if (keys.empty()) return out;
  const std::vector<pg::Param> params = {pg::ArrayOf(keys), pg::ArrayOf(values)};
  auto ins = db.Query("INSERT INTO tags (key, value) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING", params);
  if (!ins.ok()) return ins.status();
  auto rows = db.Query("SELECT id, key, value FROM tags WHERE (key, value) IN (SELECT * FROM unnest($1::text[], $2::text[]))", params);
  if (!rows.ok()) return rows.status();
  if (cache->size() > 200000) cache->clear();  // bounded memory for high-cardinality tags
  for (int r = 0; r < rows->size(); ++r) {
    Tag t{std::string(rows->Text(r, 1)), std::string(rows->Text(r, 2))};
    (*cache)[t] = rows->Int(r, 0);
    out[t] = rows->Int(r, 0);
  }
  // A tag with a NUL, which text cannot hold, is stored without it.
  for (const Tag& t : tags)
    if (!out.count(t)) return Status::InvalidArgument("tag " + t.first + " cannot be stored");
  return out;
}

}  // namespace

Status InsertChunks(pg::Connection& db, const std::vector<const TraceChunk*>& chunks) {
  if (chunks.empty()) return Status::Ok();
  std::vector<std::string> traces, bodies;
  std::vector<int64_t> starts, counts, raw_lengths;
  for (const TraceChunk* c : chunks) {
    traces.push_back(Hex(trace::IdBytes(c->trace_id)));
    starts.push_back(c->start_ns);
    counts.push_back(c->span_count);
    raw_lengths.push_back(static_cast<int64_t>(c->raw_length));
    bodies.push_back(Hex(c->body));
  }
  return db
      .Query("INSERT INTO span_chunks (trace_id, start_ns, span_count, raw_length, body) "
             "SELECT decode(t, 'hex'), s, c, r, decode(b, 'hex') "
             "FROM unnest($1::text[], $2::bigint[], $3::int[], $4::bigint[], $5::text[]) AS u(t, s, c, r, b)",
             {pg::ArrayOf(traces), pg::ArrayOf(starts), pg::ArrayOf(counts), pg::ArrayOf(raw_lengths),
              pg::ArrayOf(bodies)})
      .status();
}

Status InsertJobs(pg::Connection& db, const std::vector<JobRow*>& jobs, int64_t updated_ns) {
  if (jobs.empty()) return Status::Ok();
  JobColumnsArrays rows;
  for (const JobRow* j : jobs) rows.Add(*j, updated_ns ? updated_ns : j->updated_ns);
  auto ids = db.Query(
      "INSERT INTO jobs (" + JobColumns().substr(4) + ") SELECT decode(trace_id, 'hex'), decode(span_id, 'hex'), "
      "name, kind, status, host, service, resource_group, start_ns, end_ns, bytes_added, bytes_total, files_total, "
      "error_type, error_message, snapshot_id, source_key, source_paths, tags, updated_ns, files_changed, bytes_read, "
      "bytes_stored, deadline_ns FROM " + std::string(kUnnestJobs) +
      " ON CONFLICT (start_ns, span_id, trace_id) DO NOTHING RETURNING id, start_ns, span_id, trace_id",
      rows.Params());
  if (!ids.ok()) return ids.status();
  std::map<std::tuple<int64_t, std::string, std::string>, int64_t> inserted;
  for (int r = 0; r < ids->size(); ++r) inserted[{ids->Int(r, 1), ids->Bytes(r, 2), ids->Bytes(r, 3)}] = ids->Int(r, 0);
  for (JobRow* j : jobs) {
    auto it = inserted.find({j->start_ns, trace::IdBytes(j->span_id), trace::IdBytes(j->trace_id)});
    j->id = it == inserted.end() ? 0 : it->second;
  }
  return Status::Ok();
}

Status UpdateJob(pg::Connection& db, const JobRow& job, int64_t updated_ns) {
  JobColumnsArrays one;
  one.Add(job, updated_ns);
  std::vector<pg::Param> params = one.Params();
  params.push_back(std::to_string(job.id));
  auto up = db.Query(
      "UPDATE jobs j SET name = u.name, kind = u.kind, status = u.status, host = u.host, service = u.service, "
      "resource_group = u.resource_group, end_ns = u.end_ns, bytes_added = u.bytes_added, bytes_total = u.bytes_total, "
      "files_total = u.files_total, error_type = u.error_type, error_message = u.error_message, "
      "snapshot_id = u.snapshot_id, source_key = u.source_key, source_paths = u.source_paths, tags = u.tags, "
      "updated_ns = u.updated_ns, files_changed = u.files_changed, bytes_read = u.bytes_read, "
      "bytes_stored = u.bytes_stored, deadline_ns = u.deadline_ns FROM " + std::string(kUnnestJobs) +
      " WHERE j.id = $25 AND j.start_ns = u.start_ns",
      params);
  return up.status();
}

Status IndexTags(pg::Connection& db, std::map<Tag, int64_t>* cache, const std::vector<const JobRow*>& written,
                 const std::vector<const JobRow*>& retagged) {
  if (!retagged.empty()) {
    std::vector<int64_t> starts, ids;
    for (const JobRow* j : retagged) {
      starts.push_back(j->start_ns);
      ids.push_back(j->id);
    }
    auto del = db.Query("DELETE FROM job_tags WHERE (start_ns, job_id) IN (SELECT * FROM unnest($1::bigint[], $2::bigint[]))",
                        {pg::ArrayOf(starts), pg::ArrayOf(ids)});
    if (!del.ok()) return del.status();
  }
  std::set<Tag> tags;
  for (const JobRow* j : written) tags.insert(j->tags.begin(), j->tags.end());
  if (tags.empty()) return Status::Ok();
  auto tag_ids = TagIds(db, cache, tags);
  if (!tag_ids.ok()) return tag_ids.status();
  // Each written job once, its old rows deleted above, each tag once (a
  // tag can come both as an attribute and in backspan.tags): nothing here
  // can conflict, and a plain insert costs half of one that checks
  // (measured: 2.5 against 5.2 µs a row).
  std::vector<int64_t> tag_col, start_col, job_col, ids;
  for (const JobRow* j : written) {
    ids.clear();
    for (const Tag& t : j->tags) ids.push_back(tag_ids->at(t));
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    for (int64_t id : ids) {
      tag_col.push_back(id);
      start_col.push_back(j->start_ns);
      job_col.push_back(j->id);
    }
  }
  auto ins = db.Query("INSERT INTO job_tags (tag_id, start_ns, job_id) SELECT * FROM unnest($1::bigint[], $2::bigint[], "
                      "$3::bigint[])",
                      {pg::ArrayOf(tag_col), pg::ArrayOf(start_col), pg::ArrayOf(job_col)});
  return ins.status();
}

}  // namespace backspan::observatory
