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
#include "observatory/store/postgres/pg_job_rows.h"
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

}  // namespace

Status PostgresSpanStore::Impl::ApplyJobs(const std::vector<const JobRecord*>& jobs, std::vector<CountedJob>* counted,
                                          std::vector<JobRecord>* written_jobs) {
  if (jobs.empty()) return Status::Ok();
  // Each job's versions in this transaction, in order.
  std::map<JobKey, std::vector<const JobRecord*>> versions;
  for (const JobRecord* j : jobs) versions[KeyOf(*j)].push_back(j);
  // Most jobs are new: folded as if nothing were stored, and inserted. A
  // job some transaction stored first (a running job that ends, a
  // duplicate, a revision) conflicts, and is folded again onto its stored
  // version, locked.
  std::map<JobKey, JobState> state;
  std::vector<JobRow*> folded;
  for (const auto& [key, vs] : versions) {
    JobState& s = state[key];
    Fold(vs, &s, nullptr);
    folded.push_back(&s.row);
  }
  const int64_t now = env->NowUnixNanos();
  RETURN_IF_ERROR(InsertJobs(wdb, folded, now));
  for (auto& [key, s] : state) s.stored = s.row.id != 0;  // inserted: its fold stands
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
  for (JobState* s : updated) RETURN_IF_ERROR(UpdateJob(wdb, s->row, now));

  // The tag index: an updated row's old tags out, every written job's in.
  std::vector<const JobRow*> written, retagged;
  for (auto& [key, s] : state) {
    if (!s.changed) continue;
    written.push_back(&s.row);
    written_jobs->push_back(s.row);
    if (!s.stored_tags.empty()) retagged.push_back(&s.row);
  }
  return IndexTags(wdb, &tag_ids, written, retagged);
}

}  // namespace backspan::observatory
